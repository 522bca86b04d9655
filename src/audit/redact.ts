import { BUILTIN_SERVICES } from '../catalogue/builtin.js';

/** What a redacted query parameter's value becomes. */
export const REDACTED = 'REDACTED';

/** Parameter names that carry credentials in common APIs (OAuth, presigned URLs), lowercase. */
const COMMON_SECRET_PARAMS = [
  'key',
  'api_key',
  'apikey',
  'api-key',
  'access_token',
  'refresh_token',
  'id_token',
  'token',
  'auth',
  'code',
  'password',
  'secret',
  'client_secret',
  'sig',
  'signature',
  'x-amz-signature',
  'x-amz-credential',
  'x-amz-security-token',
  'x-goog-signature',
  'x-goog-credential',
];

/** The built-in services' credential parameters plus the common names above. */
export const DEFAULT_REDACT_PARAMS: readonly string[] = [
  ...new Set([...BUILTIN_SERVICES.flatMap((s) => s.credentialParams), ...COMMON_SECRET_PARAMS]),
];

/**
 * Builds a function that replaces the values of the named query parameters with `REDACTED`,
 * leaving everything else byte for byte. Names match case-insensitively and after percent-
 * decoding, so `?KEY=…` and `?%6Bey=…` are caught too. A leading `?` is dropped; an empty
 * query becomes null.
 */
export function createQueryRedactor(params: Iterable<string>): (query: string | undefined) => string | null {
  const secret = new Set([...params].map((p) => p.toLowerCase()));
  return (query) => {
    if (query === undefined) return null;
    const q = query.startsWith('?') ? query.slice(1) : query;
    if (q === '') return null;
    return q
      .split('&')
      .map((part) => {
        const eq = part.indexOf('=');
        const rawName = eq < 0 ? part : part.slice(0, eq);
        return secret.has(decodeName(rawName)) ? `${rawName}=${REDACTED}` : part;
      })
      .join('&');
  };
}

function decodeName(raw: string): string {
  try {
    return decodeURIComponent(raw.replaceAll('+', ' ')).toLowerCase();
  } catch {
    return raw.toLowerCase();
  }
}
