import { formatIPv4, type IpAddress } from './ip-address.js';

/**
 * SSRF address classes, pure. The forward proxy resolves names itself and refuses any
 * address in a forbidden class unless the admin pinned that exact host in config `resolve`.
 *
 * Documentation ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32) are
 * deliberately NOT forbidden: they are never routed on the internet, so reaching them is
 * harmless in production, and the test bench's fake internet lives in them.
 */
export type AddressCategory =
  | 'public'
  | 'documentation'
  | 'this-network'
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'cgnat'
  | 'metadata'
  | 'link-local'
  | 'ietf-reserved'
  | 'benchmark'
  | 'multicast'
  | 'broadcast'
  | 'reserved'
  | 'unique-local'
  | 'site-local'
  | 'discard'
  | 'teredo'
  | 'nat64-local';

export interface AddressClass {
  category: AddressCategory;
  forbidden: boolean;
  /** for IPv6 forms that embed an IPv4 address (IPv4-mapped, NAT64, 6to4): that address */
  embeddedIPv4?: string;
  /** how it was embedded (omitted = not embedded) */
  via?: 'ipv4-mapped' | 'nat64' | '6to4' | 'ipv4-compatible';
}

const ALLOWED: ReadonlySet<AddressCategory> = new Set(['public', 'documentation']);

/** [network, prefix length, category], most specific first. */
const V4_RANGES: readonly [string, number, AddressCategory][] = [
  ['169.254.169.254', 32, 'metadata'],
  ['255.255.255.255', 32, 'broadcast'],
  ['0.0.0.0', 8, 'this-network'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'cgnat'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'ietf-reserved'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'benchmark'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
];

function v4Network(text: string): number {
  return text.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

const V4_TABLE = V4_RANGES.map(([net, prefix, category]) => ({
  base: v4Network(net),
  size: 2 ** (32 - prefix),
  category,
}));

function classifyV4(value: number): AddressCategory {
  for (const r of V4_TABLE) if (value >= r.base && value < r.base + r.size) return r.category;
  return 'public';
}

function make(category: AddressCategory, extra: Partial<AddressClass> = {}): AddressClass {
  return { category, forbidden: !ALLOWED.has(category), ...extra };
}

function embedded(words: readonly number[], at: number, via: AddressClass['via']): AddressClass {
  const value = (words[at]! * 0x10000 + words[at + 1]!) >>> 0;
  const inner = classifyV4(value);
  return make(inner, { embeddedIPv4: formatIPv4(value), via });
}

/** Decides whether the forward proxy may connect to `ip`. */
export function classifyAddress(ip: IpAddress): AddressClass {
  if (ip.version === 4) return make(classifyV4(ip.value));
  const w = ip.words;
  const zeroes = (from: number, to: number) => w.slice(from, to).every((x) => x === 0);
  if (zeroes(0, 5) && w[5] === 0xffff) return embedded(w, 6, 'ipv4-mapped');
  if (zeroes(0, 8)) return make('unspecified');
  if (zeroes(0, 7) && w[7] === 1) return make('loopback');
  // ::a.b.c.d (deprecated IPv4-compatible) — classify what it embeds, and never allow it
  if (zeroes(0, 6)) return { ...embedded(w, 6, 'ipv4-compatible'), forbidden: true };
  if (w[0] === 0x64 && w[1] === 0xff9b && zeroes(2, 6)) return embedded(w, 6, 'nat64');
  if (w[0] === 0x64 && w[1] === 0xff9b && w[2] === 1) return make('nat64-local');
  if (w[0] === 0x2002) return embedded(w, 1, '6to4');
  if (w[0] === 0x2001 && w[1] === 0x0db8) return make('documentation');
  if (w[0] === 0x2001 && w[1] === 0) return make('teredo');
  if (w[0] === 0x0100 && zeroes(1, 4)) return make('discard');
  const top = w[0]!;
  if ((top & 0xfe00) === 0xfc00) return make('unique-local');
  if ((top & 0xffc0) === 0xfe80) return make('link-local');
  if ((top & 0xffc0) === 0xfec0) return make('site-local');
  if ((top & 0xff00) === 0xff00) return make('multicast');
  // everything outside 2000::/3 (global unicast) is unassigned or special
  if ((top & 0xe000) !== 0x2000) return make('reserved');
  return make('public');
}
