import type { Service } from '../../catalogue/service.js';
import type { ServiceCredential } from '../types.js';

/** One spelling of a real secret, and the same spelling of its placeholder. */
export interface SecretReplacement {
  secret: string;
  placeholder: string;
}

/** `application/x-www-form-urlencoded` spelling (URLSearchParams: `+` for spaces, `*` kept). */
function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}

/**
 * Every form in which the proxy puts a credential on the wire, each paired with the same form
 * of the placeholder: the raw value (a header template's rendering holds it verbatim), its
 * percent-encodings (a query carrier sends `encodeURIComponent(secret)`; servers that echo a
 * query may re-encode it form-style), and for a Basic carrier `base64(username:secret)`. The
 * scrubber matches the JSON spellings of each (`\/`, `\uXXXX`) itself.
 */
export function secretForms(
  service: Service | undefined,
  credential: ServiceCredential,
): SecretReplacement[] {
  const { secret, placeholder } = credential;
  const forms: SecretReplacement[] = [
    { secret, placeholder },
    { secret: encodeURIComponent(secret), placeholder: encodeURIComponent(placeholder) },
    { secret: formEncode(secret), placeholder: formEncode(placeholder) },
  ];
  const carrier = service?.carrier;
  if (carrier?.kind === 'basic') {
    const basic = (value: string) => Buffer.from(`${carrier.username}:${value}`, 'utf8').toString('base64');
    forms.push({ secret: basic(secret), placeholder: basic(placeholder) });
  }
  const seen = new Set<string>();
  return forms.filter((f) => f.secret !== '' && !seen.has(f.secret) && seen.add(f.secret));
}

/** The forms of every credential of a sandbox. */
export function sandboxSecretForms(
  services: readonly Service[],
  credentials: Readonly<Record<string, ServiceCredential>>,
): SecretReplacement[] {
  return Object.entries(credentials).flatMap(([name, credential]) =>
    secretForms(
      services.find((s) => s.name === name),
      credential,
    ),
  );
}
