import { AirlockError } from '../errors.js';

/** An IPv4 pool carved into /30s: slot n is gateway .1 and guest .2 of the n-th /30. */
export interface AddressPool {
  cidr: string;
  /** how many /30 slots the pool holds */
  slots: number;
  addressesOf(slot: number): { gateway: string; guest: string };
  /** the slot whose /30 holds an IPv4 address, null when the address is outside the pool */
  slotOf(address: string): number | null;
}

export function ipv4ToInt(address: string): number | null {
  const parts = address.split('.');
  if (parts.length !== 4) return null;
  let n = 0;
  for (const p of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(p)) return null;
    const octet = Number(p);
    if (octet > 255) return null;
    n = n * 256 + octet;
  }
  return n;
}

export function intToIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** The default pool: clear of home routers (192.168/16), Docker (172.17/16) and Podman (10.88/16). */
export const DEFAULT_POOL = '10.209.0.0/16';

/** Private ranges a pool may live in (RFC 1918); anything else could shadow real hosts. */
const PRIVATE = [
  ['10.0.0.0', 8],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
] as const;

export function parsePool(cidr: string): AddressPool {
  const bad = (why: string) =>
    new AirlockError('AIRLOCK_ERR_POOL_INVALID', `address pool "${cidr}" ${why}`, {
      hint: `use an RFC 1918 IPv4 CIDR between /8 and /30, e.g. ${DEFAULT_POOL}`,
    });
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(cidr);
  const base = m ? ipv4ToInt(m[1]!) : null;
  const prefix = m ? Number(m[2]) : NaN;
  if (base === null || !(prefix >= 8 && prefix <= 30))
    throw bad('is not an IPv4 CIDR with a prefix from /8 to /30');
  const size = 2 ** (32 - prefix);
  if (base % size !== 0)
    throw bad(`has host bits set (did you mean ${intToIpv4(base - (base % size))}/${prefix}?)`);
  const inside = PRIVATE.some(
    ([net, p]) => prefix >= p && Math.floor(base / 2 ** (32 - p)) === ipv4ToInt(net)! / 2 ** (32 - p),
  );
  if (!inside) throw bad('is not inside a private range (10/8, 172.16/12, 192.168/16)');
  return {
    cidr,
    slots: size / 4,
    addressesOf(slot) {
      if (!Number.isInteger(slot) || slot < 0 || slot >= size / 4)
        throw new RangeError(`slot ${slot} outside pool ${cidr}`);
      const net = base + slot * 4;
      return { gateway: intToIpv4(net + 1), guest: intToIpv4(net + 2) };
    },
    slotOf(address) {
      const n = ipv4ToInt(address);
      return n === null || n < base || n >= base + size ? null : Math.floor((n - base) / 4);
    },
  };
}
