import type { Service } from '../../catalogue/service.js';
import type { HeaderPairs } from '../core/headers.js';
import type { QueryPart } from '../core/query.js';

/** Where a guest request carried something that is not this sandbox's placeholder (a header or parameter name). */
export type CredentialProblem = { found: 'header' | 'parameter'; name: string } | undefined;

/** Headers (lowercase) that may carry the service's credential: the declared ones plus the carrier's own. */
export function credentialHeaderNames(service: Service): Set<string> {
  const names = new Set(service.credentialHeaders.map((h) => h.toLowerCase()));
  if (service.carrier.kind === 'header') names.add(service.carrier.header.toLowerCase());
  if (service.carrier.kind === 'basic') names.add('authorization');
  return names;
}

/** Query parameters (lowercase) that may carry the service's credential. */
export function credentialParamNames(service: Service): Set<string> {
  const names = new Set(service.credentialParams.map((p) => p.toLowerCase()));
  if (service.carrier.kind === 'query') names.add(service.carrier.param.toLowerCase());
  return names;
}

/** Auth schemes SDKs put in front of a key: `Bearer sk-…`, `token ghp_…`. */
const SCHEME = /^(?:bearer|token)\s+(\S+)$/i;
const BASIC = /^basic\s+([A-Za-z0-9+/=_-]+)$/i;
const EMPTY = /^(?:(?:bearer|token|basic)\s*)?$/i;

/** A credential header value is acceptable when it holds nothing, or the placeholder in a form SDKs send. */
function headerValueIsPlaceholder(value: string, placeholder: string): boolean {
  const v = value.trim();
  if (EMPTY.test(v) || v === placeholder) return true;
  const scheme = SCHEME.exec(v);
  if (scheme) return scheme[1] === placeholder;
  const basic = BASIC.exec(v);
  if (basic) {
    // git and some SDKs send the token as either half of `user:password`
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return false;
    const [user, password] = [decoded.slice(0, colon), decoded.slice(colon + 1)];
    return (
      (user === placeholder && (password === '' || password === 'x-oauth-basic')) || password === placeholder
    );
  }
  return false;
}

/**
 * Checks every credential-carrying header and parameter of `service` in a guest request: each
 * must be empty or this sandbox's placeholder. Anything else (another key, another sandbox's
 * placeholder) is a problem, named without its value.
 */
export function findCredentialProblem(
  service: Service,
  placeholder: string,
  headers: HeaderPairs,
  query: readonly QueryPart[],
): CredentialProblem {
  const names = credentialHeaderNames(service);
  for (const [name, value] of headers) {
    const n = name.toLowerCase();
    if (names.has(n) && !headerValueIsPlaceholder(value, placeholder)) return { found: 'header', name: n };
  }
  const params = credentialParamNames(service);
  for (const part of query) {
    if (params.has(part.name) && part.value !== '' && part.value !== placeholder) {
      return { found: 'parameter', name: part.name };
    }
  }
  return undefined;
}

/** The query without any of the service's credential parameters. */
export function withoutCredentialParams(service: Service, query: readonly QueryPart[]): QueryPart[] {
  const params = credentialParamNames(service);
  return query.filter((part) => !params.has(part.name));
}

/**
 * Adds the real credential as `service.carrier` says. `headers` and `query` must already be
 * free of guest credentials; returns new values.
 */
export function injectCredential(
  service: Service,
  secret: string,
  headers: HeaderPairs,
  query: readonly QueryPart[],
): { headers: HeaderPairs; query: QueryPart[] } {
  const carrier = service.carrier;
  switch (carrier.kind) {
    case 'header':
      return {
        headers: [...headers, [carrier.header, carrier.template.split('{secret}').join(secret)]],
        query: [...query],
      };
    case 'basic': {
      const token = Buffer.from(`${carrier.username}:${secret}`, 'utf8').toString('base64');
      return { headers: [...headers, ['authorization', `Basic ${token}`]], query: [...query] };
    }
    case 'query': {
      const raw = `${encodeURIComponent(carrier.param)}=${encodeURIComponent(secret)}`;
      return { headers, query: [...query, { raw, name: carrier.param.toLowerCase(), value: secret }] };
    }
  }
}
