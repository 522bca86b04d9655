import { createRequire } from 'node:module';
import type * as Tldts from 'tldts';
import { endsInNumber, formatIp, parseIpLiteral, type IpAddress } from './ip-address.js';

/**
 * Host names and host patterns, pure. Matching is on the canonical form: ASCII, lowercase,
 * one trailing dot removed. Anything that is not a plain host — userinfo (`@`), a port, `%`
 * escapes, `#`, spaces, non-ASCII (send punycode `xn--…`) — is not a host and matches nothing.
 */

let tldts: typeof Tldts | undefined;

/**
 * The public suffix list (tldts, ~150 KB), loaded at the first wildcard pattern and not with the
 * bundle: no built-in profile has one, and building its tables was ~8 ms of every `run`.
 */
function publicSuffixes(): typeof Tldts {
  return (tldts ??= createRequire(import.meta.url)('tldts') as typeof Tldts);
}

export type HostResult = { ok: true; host: string; ip?: IpAddress } | { ok: false; reason: string };

const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

/**
 * Canonical form of a host name or IP literal (`[v6]` or bare v6). Loose IPv4 forms
 * (`127.1`, `0x7f000001`) come back as their dotted quad, so they are classified as
 * addresses, never resolved as names.
 */
export function normalizeHost(input: string): HostResult {
  if (input === '') return { ok: false, reason: 'empty host' };
  if (input.length > 255) return { ok: false, reason: 'host longer than 255 characters' };
  if (/[^\x21-\x7e]/.test(input)) {
    return { ok: false, reason: 'host has spaces, control or non-ASCII characters (use punycode xn--…)' };
  }
  if (input.includes('@')) return { ok: false, reason: 'host has userinfo (@)' };
  if (/[%#/?\\]/.test(input)) return { ok: false, reason: 'host has one of % # / ? \\' };
  if (input.startsWith('[') || input.includes(':')) {
    const ip = parseIpLiteral(input);
    if (!ip || ip.version !== 6) return { ok: false, reason: 'not a valid IPv6 literal (or has a port)' };
    return { ok: true, host: formatIp(ip), ip };
  }
  let host = input.toLowerCase();
  if (host.endsWith('.')) host = host.slice(0, -1);
  if (endsInNumber(host)) {
    const ip = parseIpLiteral(host);
    if (!ip) return { ok: false, reason: 'ends in a number but is not a valid IPv4 address' };
    return { ok: true, host: formatIp(ip), ip };
  }
  if (host.length > 253) return { ok: false, reason: 'host longer than 253 characters' };
  const labels = host.split('.');
  if (!labels.every((l) => LABEL.test(l))) {
    return { ok: false, reason: 'not a valid host name (letters, digits, - and _ in dot-separated labels)' };
  }
  return { ok: true, host };
}

export type HostPattern =
  /** exactly this canonical host */
  | { kind: 'exact'; host: string }
  /** any subdomain of `suffix`, at any depth, but not `suffix` itself */
  | { kind: 'subdomains'; suffix: string };

export type PatternResult = { ok: true; pattern: HostPattern } | { ok: false; reason: string };

/**
 * Parses `api.example.com` or `*.example.com`. Patterns broader than one registrable domain
 * (`*`, `**`, `*.*`, `*.com`, `*.co.uk`, `*.github.io`: the full Public Suffix List, ICANN
 * and private sections, from `tldts`) and wildcards anywhere but a whole leftmost label are
 * refused.
 */
export function parseHostPattern(text: string): PatternResult {
  if (!text.includes('*')) {
    const h = normalizeHost(text);
    return h.ok ? { ok: true, pattern: { kind: 'exact', host: h.host } } : h;
  }
  if (!text.startsWith('*.') || text.slice(2).includes('*')) {
    return {
      ok: false,
      reason: `"${text}": the only wildcard allowed is a leading "*." (e.g. *.example.com)`,
    };
  }
  const h = normalizeHost(text.slice(2));
  if (!h.ok) return { ok: false, reason: `"${text}": ${h.reason}` };
  if (h.ip) return { ok: false, reason: `"${text}": wildcards apply to names, not IP addresses` };
  // `domain` is null when the name is itself a public suffix (or a single label)
  if (
    !h.host.includes('.') ||
    publicSuffixes().parse(h.host, { allowPrivateDomains: true }).domain === null
  ) {
    return {
      ok: false,
      reason: `"${text}" is broader than one registrable domain ("${h.host}" is a public suffix); name the domain, e.g. *.example.${h.host}`,
    };
  }
  return { ok: true, pattern: { kind: 'subdomains', suffix: h.host } };
}

/** Does canonical `host` (from normalizeHost) match `pattern`? */
export function hostMatches(pattern: HostPattern, host: string): boolean {
  if (pattern.kind === 'exact') return host === pattern.host;
  return host.endsWith(`.${pattern.suffix}`);
}

export function formatHostPattern(pattern: HostPattern): string {
  return pattern.kind === 'exact' ? pattern.host : `*.${pattern.suffix}`;
}
