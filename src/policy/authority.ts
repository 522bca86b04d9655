import type { IpAddress } from './ip-address.js';
import { normalizeHost } from './host.js';

/**
 * The forward proxy's request targets, pure: the one parser for a `CONNECT` target, an
 * absolute-form URL and the `Host` header that must agree with either.
 */

/** Where a forward-proxy request wants to go. */
export interface ForwardTarget {
  /** canonical host (normalizeHost): lowercase, no trailing dot, IP literals canonical, IPv6 unbracketed */
  host: string;
  port: number;
  /** `host:port` as it goes on the wire and in the audit log (IPv6 bracketed) */
  authority: string;
  /** origin-form path and query for absolute-form HTTP; '' for CONNECT */
  path: string;
  /** set when the host is an IP literal */
  ip?: IpAddress;
}

export type AuthorityResult =
  { ok: true; host: string; port: number; ip?: IpAddress } | { ok: false; reason: string };

export type TargetResult = { ok: true; target: ForwardTarget } | { ok: false; reason: string };

/**
 * Parses an authority — a `CONNECT` target, the host of an absolute-form URL, or a `Host`
 * header — as `host[:port]` or `[v6][:port]`. No userinfo, no empty or zero-padded port.
 * `defaultPort` applies when the port is omitted (omitted = a port is required).
 */
export function parseAuthority(text: string, defaultPort?: number): AuthorityResult {
  if (text.includes('@')) return { ok: false, reason: 'authority has userinfo (@)' };
  let hostPart: string;
  let portPart: string | undefined;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) return { ok: false, reason: 'unclosed [ in authority' };
    hostPart = text.slice(0, close + 1);
    const after = text.slice(close + 1);
    if (after !== '' && !after.startsWith(':')) return { ok: false, reason: 'junk after ] in authority' };
    portPart = after === '' ? undefined : after.slice(1);
  } else {
    const colon = text.lastIndexOf(':');
    if (colon >= 0 && text.indexOf(':') !== colon) {
      return { ok: false, reason: 'IPv6 addresses must be in brackets' };
    }
    hostPart = colon < 0 ? text : text.slice(0, colon);
    portPart = colon < 0 ? undefined : text.slice(colon + 1);
  }
  let port: number;
  if (portPart === undefined) {
    if (defaultPort === undefined) return { ok: false, reason: 'authority has no port' };
    port = defaultPort;
  } else {
    if (!/^[1-9]\d{0,4}$/.test(portPart) || Number(portPart) > 65535) {
      return { ok: false, reason: 'port is not a number from 1 to 65535' };
    }
    port = Number(portPart);
  }
  const h = normalizeHost(hostPart);
  if (!h.ok) return h;
  return h.ip ? { ok: true, host: h.host, port, ip: h.ip } : { ok: true, host: h.host, port };
}

function toTarget(a: Extract<AuthorityResult, { ok: true }>, path: string): ForwardTarget {
  const wire = a.host.includes(':') ? `[${a.host}]` : a.host;
  const target: ForwardTarget = { host: a.host, port: a.port, authority: `${wire}:${a.port}`, path };
  if (a.ip) target.ip = a.ip;
  return target;
}

/** The `CONNECT` request target: authority-form `host:port`, port required. */
export function parseConnectTarget(text: string): TargetResult {
  const a = parseAuthority(text);
  return a.ok ? { ok: true, target: toTarget(a, '') } : a;
}

/**
 * An absolute-form target `http://host[:port]/path?query`. The path is taken verbatim from
 * the request line (never re-serialised by a URL parser). https:// (clients use CONNECT for
 * it), userinfo and fragments are refused.
 */
export function parseAbsoluteTarget(text: string): TargetResult {
  const m = /^http:\/\/([^/?#]*)([^#]*)$/i.exec(text);
  if (!m) {
    return {
      ok: false,
      reason: text.includes('#')
        ? 'fragments are not sent to servers'
        : 'only http:// targets are proxied this way; https goes through CONNECT',
    };
  }
  const a = parseAuthority(m[1]!, 80);
  if (!a.ok) return a;
  const rest = m[2]!;
  return { ok: true, target: toTarget(a, rest === '' ? '/' : rest.startsWith('?') ? `/${rest}` : rest) };
}

/** Does a `Host` header name the target's host and port (80 or 443 when it leaves the port out)? */
export function hostHeaderMatches(
  hostHeader: string | undefined,
  target: ForwardTarget,
  defaultPort: number,
) {
  if (hostHeader === undefined) return true;
  const h = parseAuthority(hostHeader.trim(), defaultPort);
  return h.ok && h.host === target.host && h.port === target.port;
}
