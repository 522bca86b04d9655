/**
 * IP literal parsing, pure. Dotted quads are read by the one strict IPv4 helper
 * (`ipv4ToInt` in net/address-pool); `parseIPv4Loose` accepts the odd forms the WHATWG URL
 * parser and inet_aton accept (`2852039166`, `0xa9fea9fe`, `0251.0376.0251.0376`, `127.1`) so
 * that such hosts are recognised as addresses and classified, never resolved as names.
 */
import { intToIpv4, ipv4ToInt } from '../net/address-pool.js';

export type IpAddress =
  /** `value` is the address as an unsigned 32-bit integer */
  | { version: 4; value: number }
  /** `words` are the eight 16-bit groups */
  | { version: 6; words: readonly number[] };

/** One part of a loose IPv4 address: decimal, `0x` hex, or leading-zero octal; null if invalid. */
function parseLoosePart(part: string): number | null {
  if (part === '') return null;
  if (/^0[xX]/.test(part)) {
    const hex = part.slice(2);
    if (hex === '') return 0;
    return /^[0-9a-fA-F]+$/.test(hex) ? parseInt(hex, 16) : null;
  }
  if (part.length > 1 && part.startsWith('0')) {
    return /^[0-7]+$/.test(part) ? parseInt(part, 8) : null;
  }
  return /^\d+$/.test(part) ? Number(part) : null;
}

/**
 * True when a host "ends in a number" (WHATWG URL): its last label is decimal digits or `0x`
 * hex. Such a host must be read as an IPv4 address (and is invalid if that fails), never
 * looked up as a name.
 */
export function endsInNumber(host: string): boolean {
  const labels = host.split('.');
  if (labels[labels.length - 1] === '' && labels.length > 1) labels.pop();
  const last = labels[labels.length - 1] ?? '';
  return /^\d+$/.test(last) || /^0[xX][0-9a-fA-F]*$/.test(last);
}

/** The WHATWG IPv4 parser: 1–4 parts, each decimal/hex/octal, the last filling the rest. */
export function parseIPv4Loose(text: string): IpAddress | null {
  const parts = text.split('.');
  if (parts[parts.length - 1] === '' && parts.length > 1) parts.pop();
  if (parts.length > 4 || parts.length === 0) return null;
  const numbers: number[] = [];
  for (const part of parts) {
    const n = parseLoosePart(part);
    if (n === null || !Number.isSafeInteger(n)) return null;
    numbers.push(n);
  }
  const last = numbers.pop()!;
  if (numbers.some((n) => n > 255)) return null;
  if (last >= 256 ** (4 - numbers.length)) return null;
  let value = last;
  numbers.forEach((n, i) => (value += n * 256 ** (3 - i)));
  return { version: 4, value };
}

/** An IPv6 literal without brackets or zone id; null if invalid. */
export function parseIPv6(text: string): IpAddress | null {
  if (text.includes('%') || text === '') return null;
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const parseGroups = (s: string): number[] | null => {
    if (s === '') return [];
    const groups = s.split(':');
    const out: number[] = [];
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i]!;
      if (i === groups.length - 1 && g.includes('.')) {
        const v4 = ipv4ToInt(g);
        if (v4 === null) return null;
        out.push(v4 >>> 16, v4 & 0xffff);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(g)) out.push(parseInt(g, 16));
      else return null;
    }
    return out;
  };
  const head = parseGroups(halves[0]!);
  const tail = halves.length === 2 ? parseGroups(halves[1]!) : [];
  if (!head || !tail) return null;
  if (halves.length === 1) return head.length === 8 ? { version: 6, words: head } : null;
  const missing = 8 - head.length - tail.length;
  if (missing < 1) return null;
  return { version: 6, words: [...head, ...new Array<number>(missing).fill(0), ...tail] };
}

/** An IP literal as it appears in a host: `1.2.3.4`, loose IPv4 forms, `[v6]` or bare v6. */
export function parseIpLiteral(host: string): IpAddress | null {
  if (host.startsWith('[') && host.endsWith(']')) return parseIPv6(host.slice(1, -1));
  if (host.includes(':')) return parseIPv6(host);
  return endsInNumber(host) ? parseIPv4Loose(host) : null;
}

/** Canonical text (RFC 5952 for IPv6: lowercase, longest zero run compressed). */
export function formatIp(ip: IpAddress): string {
  if (ip.version === 4) return intToIpv4(ip.value);
  const w = ip.words;
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) [bestStart, bestLen] = [i, j - i];
    i = j;
  }
  const hex = (ws: readonly number[]) => ws.map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(w);
  return `${hex(w.slice(0, bestStart))}::${hex(w.slice(bestStart + bestLen))}`;
}
