import { BlockList } from 'node:net';
import { intToIpv4 } from '../net/address-pool.js';
import { formatIp, parseIpLiteral } from './ip-address.js';

/**
 * Address classes for the forward proxy's egress guard, pure (`net.BlockList` is Node's own
 * range matcher; it also matches IPv4-mapped IPv6 against IPv4 ranges). Only `public`
 * addresses are reachable, plus the test ranges (`documentation`, `benchmark`) when the
 * config allows them: they are never routed on the internet, and the test bench's fake
 * internet lives in them. The host's own addresses and the sandbox pool are checked by the
 * proxy at dial time (they are facts of the machine, not of the address).
 */
export type AddressCategory =
  | 'public'
  | 'documentation'
  | 'benchmark'
  | 'this-network'
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'cgnat'
  | 'metadata'
  | 'link-local'
  | 'ietf-reserved'
  | 'multicast'
  | 'broadcast'
  | 'reserved'
  | 'unique-local'
  | 'site-local'
  | 'discard'
  | 'teredo'
  | 'nat64-local'
  | 'invalid';

export interface AddressClass {
  category: AddressCategory;
  /** for IPv6 forms that embed an IPv4 address (IPv4-mapped, NAT64, 6to4, IPv4-compatible): that address */
  embeddedIPv4?: string;
  /** how it was embedded (omitted = not embedded) */
  via?: 'ipv4-mapped' | 'nat64' | '6to4' | 'ipv4-compatible';
}

/** Categories the config may open (`egress.allowTestRanges`); every other non-public one stays shut. */
export const TEST_CATEGORIES: ReadonlySet<AddressCategory> = new Set(['documentation', 'benchmark']);

/** [category, ranges], most specific first. */
const V4: readonly [AddressCategory, readonly (readonly [string, number])[]][] = [
  ['metadata', [['169.254.169.254', 32]]],
  ['broadcast', [['255.255.255.255', 32]]],
  ['this-network', [['0.0.0.0', 8]]],
  [
    'private',
    [
      ['10.0.0.0', 8],
      ['172.16.0.0', 12],
      ['192.168.0.0', 16],
    ],
  ],
  ['cgnat', [['100.64.0.0', 10]]],
  ['loopback', [['127.0.0.0', 8]]],
  ['link-local', [['169.254.0.0', 16]]],
  [
    'documentation',
    [
      ['192.0.2.0', 24],
      ['198.51.100.0', 24],
      ['203.0.113.0', 24],
    ],
  ],
  ['ietf-reserved', [['192.0.0.0', 24]]],
  ['benchmark', [['198.18.0.0', 15]]],
  ['multicast', [['224.0.0.0', 4]]],
  ['reserved', [['240.0.0.0', 4]]],
];

const V6: readonly [AddressCategory, readonly (readonly [string, number])[]][] = [
  ['unspecified', [['::', 128]]],
  ['loopback', [['::1', 128]]],
  ['nat64-local', [['64:ff9b:1::', 48]]],
  ['documentation', [['2001:db8::', 32]]],
  ['teredo', [['2001::', 32]]],
  ['discard', [['100::', 64]]],
  ['unique-local', [['fc00::', 7]]],
  ['link-local', [['fe80::', 10]]],
  ['site-local', [['fec0::', 10]]],
  ['multicast', [['ff00::', 8]]],
];

function table(family: 'ipv4' | 'ipv6', rows: typeof V4): [AddressCategory, BlockList][] {
  return rows.map(([category, ranges]) => {
    const list = new BlockList();
    for (const [net, prefix] of ranges) list.addSubnet(net, prefix, family);
    return [category, list];
  });
}

/** The range tables, made at the first lookup (a `run` whose guest never uses the forward proxy needs none). */
let tables: {
  v4: [AddressCategory, BlockList][];
  v6: [AddressCategory, BlockList][];
  globalUnicast: BlockList;
};
function rangeTables(): typeof tables {
  if (tables === undefined) {
    // global unicast: every IPv6 address outside it is unassigned or special
    const globalUnicast = new BlockList();
    globalUnicast.addSubnet('2000::', 3, 'ipv6');
    tables = { v4: table('ipv4', V4), v6: table('ipv6', V6), globalUnicast };
  }
  return tables;
}

function classifyV4(ip: string): AddressCategory {
  return rangeTables().v4.find(([, list]) => list.check(ip, 'ipv4'))?.[0] ?? 'public';
}

function embedded(words: readonly number[], at: number, via: AddressClass['via']): AddressClass {
  const v4 = intToIpv4((words[at]! * 0x10000 + words[at + 1]!) >>> 0);
  return { category: classifyV4(v4), embeddedIPv4: v4, via };
}

/** The class of an IP literal (any form `parseIpLiteral` reads); `invalid` when it is none. */
export function classifyAddress(literal: string): AddressClass {
  const ip = parseIpLiteral(literal);
  if (!ip) return { category: 'invalid' };
  if (ip.version === 4) return { category: classifyV4(formatIp(ip)) };
  const w = ip.words;
  const zeroes = (from: number, to: number) => w.slice(from, to).every((x) => x === 0);
  if (zeroes(0, 5) && w[5] === 0xffff) return embedded(w, 6, 'ipv4-mapped');
  // ::a.b.c.d (deprecated IPv4-compatible); `::` and `::1` are in the table
  if (zeroes(0, 6) && w[6] !== 0) return embedded(w, 6, 'ipv4-compatible');
  if (zeroes(0, 7) && w[7]! > 1) return embedded(w, 6, 'ipv4-compatible');
  if (w[0] === 0x64 && w[1] === 0xff9b && zeroes(2, 6)) return embedded(w, 6, 'nat64');
  if (w[0] === 0x2002) return embedded(w, 1, '6to4');
  const text = formatIp(ip);
  const { v6, globalUnicast } = rangeTables();
  const hit = v6.find(([, list]) => list.check(text, 'ipv6'));
  if (hit) return { category: hit[0] };
  return { category: globalUnicast.check(text, 'ipv6') ? 'public' : 'reserved' };
}

/**
 * May the forward proxy connect to an address of this class? Public ones, and the test
 * ranges when `allowTestRanges`. The deprecated IPv4-compatible form (`::a.b.c.d`) never.
 */
export function isReachableClass(c: AddressClass, allowTestRanges: boolean): boolean {
  if (c.via === 'ipv4-compatible') return false;
  return c.category === 'public' || (allowTestRanges && TEST_CATEGORIES.has(c.category));
}
