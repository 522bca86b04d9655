import { METHOD_OVERRIDE_HEADERS } from '../../policy/index.js';

/**
 * Header hygiene shared by both directions: hop-by-hop headers describe one connection and
 * never cross the proxy; headers a peer names in `Connection` are hop-by-hop too (so a guest
 * cannot make the proxy drop the credential it adds).
 */

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'proxy-authenticate',
  'proxy-authorization',
  'http2-settings',
]);

/** Headers that ask a server to act as if another method had been sent: the policy checked the real one. */
const METHOD_OVERRIDES: ReadonlySet<string> = new Set(METHOD_OVERRIDE_HEADERS);

/** Request headers the proxy sets itself (`host`, `accept-encoding`) or answers itself (`expect`). */
const PROXY_OWNED = new Set(['host', 'expect', 'accept-encoding']);

export type HeaderPairs = [name: string, value: string][];

/** `rawHeaders` (flat name, value, … as received) → pairs, duplicates and order kept. */
export function headerPairs(rawHeaders: readonly string[]): HeaderPairs {
  const pairs: HeaderPairs = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) pairs.push([rawHeaders[i]!, rawHeaders[i + 1]!]);
  return pairs;
}

/** Every header name listed in any `Connection` header, lowercase. */
export function connectionTokens(pairs: HeaderPairs): Set<string> {
  const tokens = new Set<string>();
  for (const [name, value] of pairs) {
    if (name.toLowerCase() !== 'connection') continue;
    for (const t of value.split(',')) {
      const token = t.trim().toLowerCase();
      if (token) tokens.add(token);
    }
  }
  return tokens;
}

/**
 * The guest's headers minus hop-by-hop, `Connection`-named, method-override, proxy-owned and
 * `alsoDrop` (lowercase; the service's credential headers) ones.
 */
export function forwardableRequestHeaders(pairs: HeaderPairs, alsoDrop: Iterable<string>): HeaderPairs {
  const drop = new Set([...connectionTokens(pairs), ...alsoDrop]);
  return pairs.filter(([name]) => {
    const n = name.toLowerCase();
    return !HOP_BY_HOP.has(n) && !METHOD_OVERRIDES.has(n) && !PROXY_OWNED.has(n) && !drop.has(n);
  });
}

export type ResponseHeaders = Record<string, string | string[] | undefined>;

/** The upstream's response headers minus hop-by-hop, `Connection`-named and `alsoDrop` (lowercase) ones. */
export function forwardableResponseHeaders(
  headers: ResponseHeaders,
  alsoDrop: Iterable<string>,
): ResponseHeaders {
  const connection = headers.connection;
  const named = connectionTokens(
    (Array.isArray(connection) ? connection : connection ? [connection] : []).map((v) => ['connection', v]),
  );
  const drop = new Set([...named, ...alsoDrop]);
  const out: ResponseHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    const n = name.toLowerCase();
    if (value === undefined || HOP_BY_HOP.has(n) || drop.has(n)) continue;
    out[n] = value;
  }
  return out;
}
