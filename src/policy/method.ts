/**
 * Request methods, pure. A method is compared as the exact token the client sent: `get` is
 * not `GET`. With no endpoint rules, only the standard methods below pass; anything else
 * (lowercase, WebDAV, TRACE, CONNECT on the reverse route) needs a rule naming it exactly.
 */

/** RFC 9110 token characters. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Methods allowed on a service with no endpoint rules, and what `*` in a rule means. */
export const STANDARD_METHODS: readonly string[] = [
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'OPTIONS',
];

/**
 * Headers some frameworks read to change the method after the proxy checked it; the proxy
 * strips them (any case) before forwarding.
 */
export const METHOD_OVERRIDE_HEADERS: readonly string[] = [
  'x-http-method-override',
  'x-http-method',
  'x-method-override',
];

export function isMethodToken(method: string): boolean {
  return method.length <= 64 && TOKEN.test(method);
}

export function isStandardMethod(method: string): boolean {
  return STANDARD_METHODS.includes(method);
}
