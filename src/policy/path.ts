/**
 * Strict request-target normalization for the reverse route, pure. Anything different HTTP
 * parsers could read differently is rejected (400) rather than repaired; what is accepted is
 * rewritten to one canonical form, and that exact string is both checked against the rules
 * and forwarded. See docs/policy.md, "Path normalization".
 */

export type NormalizedTarget =
  | {
      ok: true;
      /** canonical path: unreserved characters decoded, other escapes as uppercase `%XX` */
      path: string;
      /** the query after `?`, passed through verbatim (omitted = there was no `?`) */
      query?: string;
      /** what to forward: `path` plus `?query` */
      target: string;
      /** the decoded path segments the rules match against (`/a/b/` → ['a', 'b', '']) */
      segments: string[];
    }
  | { ok: false; reason: string };

/** Longest request target accepted, in characters. */
export const MAX_TARGET_LENGTH = 16_384;

const UNRESERVED = /^[A-Za-z0-9\-._~]$/;
/** raw characters allowed in a path segment besides unreserved and `%XX` (no `;`) */
const RAW_SEGMENT_EXTRA = new Set([':', '@', '!', '$', '&', "'", '(', ')', '*', '+', ',', '=']);
const HEX = /^[0-9A-Fa-f]{2}$/;
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

const reject = (reason: string): NormalizedTarget => ({ ok: false, reason });

function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || (code >= 0x7f && code < 0xa0)) return true;
  }
  return false;
}

type SegmentResult = { ok: true; canonical: string; decoded: string } | { ok: false; reason: string };

/** Validates, decodes and canonicalizes one path segment. */
function normalizeSegment(raw: string): SegmentResult {
  const bytes: number[] = [];
  let canonical = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c === '%') {
      const hex = raw.slice(i + 1, i + 3);
      if (!HEX.test(hex)) return { ok: false, reason: 'invalid percent-encoding' };
      const byte = parseInt(hex, 16);
      i += 2;
      if (byte === 0x25) return { ok: false, reason: 'encoded "%" (%25): double encoding is refused' };
      if (byte === 0x2f || byte === 0x5c) {
        return { ok: false, reason: 'encoded "/" or "\\" (%2F, %5C) in the path' };
      }
      if (byte < 0x20 || byte === 0x7f) return { ok: false, reason: 'encoded control character in the path' };
      bytes.push(byte);
      const ch = String.fromCharCode(byte);
      canonical += byte < 0x80 && UNRESERVED.test(ch) ? ch : `%${hex.toUpperCase()}`;
    } else if (UNRESERVED.test(c) || RAW_SEGMENT_EXTRA.has(c)) {
      bytes.push(c.charCodeAt(0));
      canonical += c;
    } else {
      return { ok: false, reason: `character "${c}" is not allowed unencoded in a path` };
    }
  }
  let decoded: string;
  try {
    decoded = UTF8.decode(new Uint8Array(bytes));
  } catch {
    return {
      ok: false,
      reason: 'percent-encoded bytes are not valid UTF-8 (overlong or truncated sequence)',
    };
  }
  if (/^\.+$/.test(decoded)) return { ok: false, reason: 'dot segment ("." or "..") in the path' };
  // Servers that apply Unicode compatibility normalization would turn fullwidth "．" or "／"
  // into "." or "/"; refuse anything that becomes a separator, an escape or a dot segment.
  const compat = decoded.normalize('NFKC');
  if (/[/\\%]/.test(compat) || /^[.\s]+$/.test(compat) || hasControl(compat)) {
    return {
      ok: false,
      reason: 'path segment that Unicode normalization turns into a separator or dot segment',
    };
  }
  if (/^[.\s]+$/.test(decoded)) return { ok: false, reason: 'segment of only dots and spaces in the path' };
  return { ok: true, canonical, decoded };
}

/**
 * Normalizes the request target that follows `/proxy/<service>`: `''` (meaning `/`), or a
 * path starting with `/`, optionally followed by `?query`.
 */
export function normalizeTarget(raw: string): NormalizedTarget {
  if (raw.length > MAX_TARGET_LENGTH) return reject('request target too long');
  if (raw.includes('#')) return reject('fragment (#) in the request target');
  for (let i = 0; i < raw.length; i++) {
    const code = raw.charCodeAt(i);
    if (code <= 0x20 || code === 0x7f) return reject('space or control character in the request target');
    if (code > 0x7e) return reject('raw non-ASCII character in the request target (percent-encode it)');
  }
  const q = raw.indexOf('?');
  const rawPath = q < 0 ? raw : raw.slice(0, q);
  const query = q < 0 ? undefined : raw.slice(q + 1);
  if (rawPath !== '' && !rawPath.startsWith('/')) return reject('not an origin-form request target');
  if (rawPath.includes('\\')) return reject('backslash in the path');
  if (rawPath.includes(';')) return reject('";" path parameters are refused');
  const rawSegments = rawPath === '' ? [''] : rawPath.slice(1).split('/');
  const canonical: string[] = [];
  const segments: string[] = [];
  for (let i = 0; i < rawSegments.length; i++) {
    const seg = rawSegments[i]!;
    if (seg === '' && i < rawSegments.length - 1) return reject('empty path segment ("//")');
    const r = normalizeSegment(seg);
    if (!r.ok) return r;
    canonical.push(r.canonical);
    segments.push(r.decoded);
  }
  if (query !== undefined) {
    // the query is forwarded verbatim; it only has to be well-formed
    if (/%(?![0-9A-Fa-f]{2})/.test(query)) return reject('invalid percent-encoding in the query');
  }
  const path = `/${canonical.join('/')}`;
  const target = query === undefined ? path : `${path}?${query}`;
  return query === undefined
    ? { ok: true, path, target, segments }
    : { ok: true, path, query, target, segments };
}

export type ProxyTarget = { ok: true; service: string; rest: string } | { ok: false; reason: string };

/** Service names as they appear in `/proxy/<service>`. */
export const SERVICE_NAME = /^[a-z0-9](?:[a-z0-9-]{0,62})$/;

/**
 * Splits a raw reverse-route target `/proxy/<service>[/path][?query]` into the service name
 * and the rest (to hand to normalizeTarget). Non-origin-form targets (`http://…`, `*`,
 * `host:port`) are refused.
 */
export function splitProxyTarget(raw: string): ProxyTarget {
  if (!raw.startsWith('/')) return { ok: false, reason: 'not an origin-form request target' };
  const m = /^\/proxy\/([^/?#]*)(.*)$/s.exec(raw);
  if (!m) return { ok: false, reason: 'not a /proxy/<service>/… target' };
  const service = m[1]!;
  if (!SERVICE_NAME.test(service)) return { ok: false, reason: 'service name in the target is not valid' };
  return { ok: true, service, rest: m[2]! };
}
