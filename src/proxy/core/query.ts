/** Query strings handled as raw `&`-separated parts, so every part the proxy keeps goes upstream byte for byte. */

export interface QueryPart {
  /** the part exactly as received, e.g. `key=abc%20d` */
  raw: string;
  /** its decoded name (`+` as space), lowercase */
  name: string;
  /** its decoded value */
  value: string;
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text; // malformed escapes: compare the raw text, which is what an upstream might read
  }
}

/** `a=1&key=x` → parts; the empty query gives none. */
export function parseQuery(query: string): QueryPart[] {
  if (query === '') return [];
  return query.split('&').map((raw) => {
    const eq = raw.indexOf('=');
    const name = eq < 0 ? raw : raw.slice(0, eq);
    return { raw, name: decode(name).toLowerCase(), value: eq < 0 ? '' : decode(raw.slice(eq + 1)) };
  });
}

export function formatQuery(parts: readonly QueryPart[]): string {
  return parts.map((p) => p.raw).join('&');
}

/** `/a/b?x=1` → [`/a/b`, `x=1`]; no `?` gives an empty query. */
export function splitTarget(target: string): [path: string, query: string] {
  const q = target.indexOf('?');
  return q < 0 ? [target, ''] : [target.slice(0, q), target.slice(q + 1)];
}
