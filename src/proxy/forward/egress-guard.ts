import { BlockList, connect, isIP, type Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import { AirlockError } from '../../errors.js';
import { classifyAddress, isReachableClass } from '../../policy/index.js';
import type { EgressGuard } from '../core/context.js';
import type { EgressOptions } from '../types.js';

export interface EgressGuardOptions extends EgressOptions {
  /** admin-pinned hostname → IP */
  resolve: Readonly<Record<string, string>>;
  /** connect limit in `ms` */
  connectTimeout: number;
}

/** Every address of every interface of this host, now (v4, v6; link-local ones without their zone). */
function interfaceAddresses(): string[] {
  return Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((a) => a.address));
}

/**
 * `addresses` as a BlockList (zones dropped: `fe80::1%eth0` is `fe80::1` to compare with), and
 * a check of one address against it; IPv4-mapped IPv6 matches its IPv4 address.
 */
function addressSet(addresses: Iterable<string>): (ip: string) => boolean {
  const list = new BlockList();
  const family = (ip: string) => (isIP(ip) === 4 ? 'ipv4' : 'ipv6');
  const plain = (ip: string) => ip.replace(/%.*$/, '');
  for (const a of addresses) if (isIP(plain(a)) !== 0) list.addAddress(plain(a), family(plain(a)));
  return (ip) => isIP(plain(ip)) !== 0 && list.check(plain(ip), family(plain(ip)));
}

/**
 * The forward proxy's egress guard. A name is resolved here, once, and every address it has
 * must pass, so the address dialled is the address checked (no DNS rebinding between check
 * and connect). An address passes when it is none of this host's own (every interface, read
 * at each check, so a public address is covered too; IPv4-mapped forms match), not in the
 * sandbox pool, and of a reachable class (public; the test ranges only when the config says
 * so). After connecting, the socket's peer must be the checked address and still pass.
 * Hosts the admin pinned in `resolve` skip the class checks: the admin chose them.
 */
export function createEgressGuard(options: EgressGuardOptions): EgressGuard {
  const { resolve } = options;
  const allowTestRanges = options.allowTestRanges ?? false;
  const pool = new BlockList();
  if (options.pool) {
    const [net, prefix] = options.pool.split('/');
    pool.addSubnet(net!, Number(prefix), 'ipv4');
  }
  const local = options.localAddresses ?? interfaceAddresses;
  const lookup =
    options.lookup ??
    (async (host: string) =>
      (await process.getBuiltinModule('node:dns/promises').lookup(host, { all: true })).map(
        (a) => a.address,
      ));

  /** Why the proxy never connects to `ip` (undefined = it may). */
  function refusal(ip: string): string | undefined {
    const address = ip.replace(/%.*$/, '');
    const family = isIP(address);
    if (family === 0) return 'not an IP address';
    if (addressSet(local())(address)) return 'an address of this host';
    if (pool.check(address, family === 4 ? 'ipv4' : 'ipv6')) return 'in the sandbox address pool';
    const c = classifyAddress(address);
    if (isReachableClass(c, allowTestRanges)) return undefined;
    const embedded = c.embeddedIPv4 ? ` (${c.via} ${c.embeddedIPv4})` : '';
    return `a ${c.via === 'ipv4-compatible' ? 'deprecated IPv4-compatible' : c.category} address${embedded}`;
  }

  const forbidden = (host: string, ip: string, why: string) =>
    new AirlockError(
      'AIRLOCK_ERR_FORBIDDEN_ADDRESS',
      `forward proxy: ${host === ip ? ip : `${host} resolves to ${ip}, which`} is ${why}; airlock never connects there${
        host === ip ? '' : ' (pin the host in config "resolve" if this is intended)'
      }`,
    );

  function defaultDial(ip: string, port: number, timeoutMs: number): Promise<Socket> {
    return new Promise((resolvePromise, reject) => {
      const socket = connect({ host: ip, port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(Object.assign(new Error('connect timeout'), { code: 'UND_ERR_CONNECT_TIMEOUT' }));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolvePromise(socket);
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  /** An injected dialer: its socket is destroyed when it arrives after the time-out. */
  function hookedDial(dial: NonNullable<EgressOptions['dial']>, ip: string, port: number, timeoutMs: number) {
    return new Promise<Socket>((resolvePromise, reject) => {
      let late = false;
      const timer = setTimeout(() => {
        late = true;
        reject(Object.assign(new Error('connect timeout'), { code: 'UND_ERR_CONNECT_TIMEOUT' }));
      }, timeoutMs);
      dial(ip, port).then(
        (socket) => {
          clearTimeout(timer);
          if (late) socket.destroy();
          else resolvePromise(socket);
        },
        (err: unknown) => {
          clearTimeout(timer);
          reject(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });
  }

  return {
    async choose(host) {
      const pinned = Object.hasOwn(resolve, host) ? resolve[host] : undefined;
      if (pinned !== undefined) return { ip: pinned, pinned: true };
      let addresses: string[];
      try {
        addresses = isIP(host) ? [host] : await lookup(host);
      } catch {
        throw new AirlockError('AIRLOCK_ERR_UPSTREAM', `forward proxy: ${host} could not be resolved`);
      }
      if (addresses.length === 0)
        throw new AirlockError('AIRLOCK_ERR_UPSTREAM', `forward proxy: ${host} has no address`);
      // one bad answer refuses the host: a resolver can return a public and a private address
      for (const ip of addresses) {
        const why = refusal(ip);
        if (why !== undefined) throw forbidden(host, ip, why);
      }
      return { ip: addresses[0]!, pinned: false };
    },

    async dial(address, port) {
      const { ip } = address;
      const socket = options.dial
        ? await hookedDial(options.dial, ip, port, options.connectTimeout)
        : await defaultDial(ip, port, options.connectTimeout);
      // the peer must be the address checked, and (unless pinned) still pass: checked at dial time
      const peer = socket.remoteAddress ?? '';
      const why = !addressSet([ip])(peer)
        ? `not the address that was checked (${ip})`
        : address.pinned
          ? undefined
          : refusal(peer);
      if (why !== undefined) {
        socket.destroy();
        throw forbidden(peer || ip, peer || ip, why);
      }
      return socket;
    },
  };
}
