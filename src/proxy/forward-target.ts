import { isIP } from 'node:net';

/** Where a forward-proxy request wants to go. */
export interface ForwardTarget {
  /** lowercase, one trailing dot removed, IPv6 without brackets */
  host: string;
  port: number;
  /** `host:port` as it goes on the wire (IPv6 bracketed) */
  authority: string;
  /** origin-form path and query for absolute-form HTTP; '' for CONNECT */
  path: string;
}

export type ParsedTarget = { ok: true; target: ForwardTarget } | { ok: false; message: string };

const HOSTNAME = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?)*$/;

/** `host:port` with a DNS name, IPv4 or bracketed IPv6; nothing else (no userinfo, no `%`, no path). */
function parseAuthority(authority: string, defaultPort: number | undefined): ParsedTarget {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(authority);
  if (!m) return { ok: false, message: `"${authority.slice(0, 100)}" is not host:port` };
  const rawHost = m[1]!;
  const port = m[2] === undefined ? defaultPort : Number(m[2]);
  if (port === undefined || port < 1 || port > 65535)
    return { ok: false, message: 'a port from 1 to 65535 is required' };
  let host = rawHost.toLowerCase();
  if (host.startsWith('[')) {
    host = host.slice(1, -1);
    if (isIP(host) !== 6) return { ok: false, message: `"${rawHost}" is not an IPv6 address` };
  } else {
    host = host.replace(/\.$/, ''); // `api.openai.com.` is the same host as `api.openai.com`
    if (isIP(host) !== 4 && !HOSTNAME.test(host))
      return { ok: false, message: `"${rawHost.slice(0, 100)}" is not a hostname` };
  }
  const wire = isIP(host) === 6 ? `[${host}]` : host;
  return { ok: true, target: { host, port, authority: `${wire}:${port}`, path: '' } };
}

/** A Host header names the same host and port as the target (default port 80 / 443 when left out). */
export function hostHeaderMatches(
  hostHeader: string | undefined,
  target: ForwardTarget,
  defaultPort: number,
): boolean {
  if (hostHeader === undefined) return true;
  const parsed = parseAuthority(hostHeader.trim(), defaultPort);
  return parsed.ok && parsed.target.host === target.host && parsed.target.port === target.port;
}

/** The `CONNECT` request target: authority-form `host:port`, port required. */
export function parseConnectTarget(url: string): ParsedTarget {
  return parseAuthority(url, undefined);
}

/**
 * An absolute-form target `http://host[:port]/path?query`. The path is taken verbatim from
 * the request line (never re-serialised by a URL parser). https:// (clients use CONNECT for
 * it), userinfo and fragments are refused.
 */
export function parseAbsoluteTarget(url: string): ParsedTarget {
  const m = /^http:\/\/([^/?#]*)([^#]*)$/i.exec(url);
  if (!m) {
    return {
      ok: false,
      message: url.includes('#')
        ? 'fragments are not sent to servers'
        : 'only http:// targets are proxied this way; https goes through CONNECT',
    };
  }
  const authority = m[1]!;
  if (authority.includes('@'))
    return { ok: false, message: 'userinfo (user@host) is not allowed in the target' };
  const parsed = parseAuthority(authority, 80);
  if (!parsed.ok) return parsed;
  const rest = m[2]!;
  const path = rest === '' ? '/' : rest.startsWith('?') ? `/${rest}` : rest;
  return { ok: true, target: { ...parsed.target, path } };
}
