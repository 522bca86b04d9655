import type { IpAddress } from './ip-address.js';
import { normalizeHost } from './host.js';

export type AuthorityResult =
  { ok: true; host: string; port: number; ip?: IpAddress } | { ok: false; reason: string };

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
