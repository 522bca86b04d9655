import { AirlockError } from '../errors.js';
import {
  AF_NETLINK,
  close,
  connect,
  recv,
  send,
  SOCK_CLOEXEC,
  SOCK_RAW,
  socket,
  withSignalsHeld,
} from './libc.js';

/**
 * A minimal rtnetlink client (the kernel interface `ip` speaks), for the handful of requests a
 * sandbox's links need: a veth pair, an alias, an IPv4 address, a link up, IPv6 address
 * generation off, and a listing of routes. Each request waits for the kernel's answer; a
 * refusal throws AIRLOCK_ERR_NET_SETUP naming the request and the kernel's errno. A socket
 * belongs to the network namespace of the thread that opened it (see netns.ts).
 */

const NETLINK_ROUTE = 0;
const NLMSG_ERROR = 2;
const NLMSG_DONE = 3;
const NLM_F_REQUEST = 0x1;
const NLM_F_MULTI = 0x2;
const NLM_F_ACK = 0x4;
const NLM_F_DUMP = 0x300;
const NLM_F_EXCL = 0x200;
const NLM_F_CREATE = 0x400;
const NLA_F_NESTED = 0x8000;

const RTM_NEWLINK = 16;
const RTM_GETLINK = 18;
const RTM_NEWADDR = 20;
const RTM_GETROUTE = 26;

const AF_UNSPEC = 0;
const AF_INET = 2;
const AF_INET6 = 10;
const IFF_UP = 0x1;

const IFLA_IFNAME = 3;
const IFLA_LINKINFO = 18;
const IFLA_IFALIAS = 20;
const IFLA_AF_SPEC = 26;
const IFLA_NET_NS_FD = 28;
const IFLA_INFO_KIND = 1;
const IFLA_INFO_DATA = 2;
const VETH_INFO_PEER = 1;
const IFLA_INET6_ADDR_GEN_MODE = 8;
const IN6_ADDR_GEN_MODE_NONE = 1;
const IFA_ADDRESS = 1;
const IFA_LOCAL = 2;
const RTA_TABLE = 15;

/** The few errno values the kernel answers here, by name (an errno's number is negated in NLMSG_ERROR). */
const ERRNO_NAMES: Record<number, string> = {
  1: 'EPERM',
  2: 'ENOENT',
  16: 'EBUSY',
  17: 'EEXIST',
  19: 'ENODEV',
  22: 'EINVAL',
  95: 'EOPNOTSUPP',
};

/** One netlink attribute: a type and its payload, or nested attributes. */
type Attr = [type: number, value: Buffer | string | number | Attr[]];

function attrPayload(value: Attr[1]): Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (typeof value === 'string') return Buffer.from(`${value}\0`);
  if (typeof value === 'number') {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(value);
    return b;
  }
  return Buffer.concat(value.map(encodeAttr));
}

function encodeAttr([type, value]: Attr): Buffer {
  const payload = attrPayload(value);
  const length = 4 + payload.length;
  const out = Buffer.alloc((length + 3) & ~3);
  out.writeUInt16LE(length, 0);
  out.writeUInt16LE(Array.isArray(value) ? type | NLA_F_NESTED : type, 2);
  payload.copy(out, 4);
  return out;
}

const u8 = (n: number) => Buffer.from([n]);

function ifinfomsg(index: number, flags = 0, change = 0, family = AF_UNSPEC): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt8(family, 0);
  b.writeInt32LE(index, 4);
  b.writeUInt32LE(flags, 8);
  b.writeUInt32LE(change, 12);
  return b;
}

function ipv4(address: string): Buffer {
  const parts = address.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new AirlockError('AIRLOCK_ERR_NET_SETUP', `not an IPv4 address: ${address}`);
  }
  return Buffer.from(parts);
}

/** An IPv4 route as the kernel lists it: destination prefix length and table. */
export interface Route {
  dstLen: number;
  table: number;
}

/** A netlink socket to the kernel's routing subsystem, in the namespace it was opened in. */
export class Rtnetlink {
  readonly #fd: number;
  #seq = 0;
  readonly #buffer = Buffer.alloc(64 * 1024);

  constructor() {
    this.#fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    try {
      connect(this.#fd, Buffer.alloc(12, 0).fill(AF_NETLINK, 0, 1)); // sockaddr_nl of the kernel
    } catch (e) {
      close(this.#fd);
      throw e;
    }
  }

  close(): void {
    close(this.#fd);
  }

  /** Sends one request and returns the kernel's messages up to its acknowledgement (or DONE). */
  #request(type: number, flags: number, header: Buffer, attrs: Attr[], what: string): Buffer[] {
    return withSignalsHeld(() => this.#converse(type, flags, header, attrs, what));
  }

  #converse(type: number, flags: number, header: Buffer, attrs: Attr[], what: string): Buffer[] {
    const body = Buffer.concat([header, ...attrs.map(encodeAttr)]);
    const message = Buffer.alloc(16 + body.length);
    const seq = ++this.#seq;
    message.writeUInt32LE(message.length, 0);
    message.writeUInt16LE(type, 4);
    message.writeUInt16LE(NLM_F_REQUEST | flags, 6);
    message.writeUInt32LE(seq, 8);
    body.copy(message, 16);
    send(this.#fd, message);
    const replies: Buffer[] = [];
    for (;;) {
      const n = recv(this.#fd, this.#buffer);
      for (let at = 0; at + 16 <= n;) {
        const length = this.#buffer.readUInt32LE(at);
        const kind = this.#buffer.readUInt16LE(at + 4);
        const mseq = this.#buffer.readUInt32LE(at + 8);
        if (length < 16) break;
        if (mseq === seq) {
          if (kind === NLMSG_ERROR) {
            const errno = -this.#buffer.readInt32LE(at + 16);
            if (errno === 0) return replies; // the acknowledgement
            throw Object.assign(
              new AirlockError(
                'AIRLOCK_ERR_NET_SETUP',
                `${what} failed: ${ERRNO_NAMES[errno] ?? `errno ${errno}`}`,
              ),
              { errno: ERRNO_NAMES[errno] ?? `errno ${errno}` },
            );
          }
          if (kind === NLMSG_DONE) return replies;
          replies.push(Buffer.from(this.#buffer.subarray(at + 16, at + length)));
          if ((this.#buffer.readUInt16LE(at + 6) & NLM_F_MULTI) === 0 && (flags & NLM_F_ACK) === 0) {
            return replies;
          }
        }
        at += (length + 3) & ~3;
      }
    }
  }

  /** The index of the link `name` in this socket's namespace. */
  linkIndex(name: string): number {
    const [reply] = this.#request(
      RTM_GETLINK,
      0,
      ifinfomsg(0),
      [[IFLA_IFNAME, name]],
      `finding link ${name}`,
    );
    if (!reply) throw new AirlockError('AIRLOCK_ERR_NET_SETUP', `finding link ${name} failed: no answer`);
    return reply.readInt32LE(4);
  }

  /**
   * Adds the veth pair `name` here and `peer` inside the namespace whose file descriptor is
   * `peerNetnsFd`; fails (EEXIST) when `name` exists.
   */
  addVeth(name: string, peer: string, peerNetnsFd: number): number {
    const peerInfo = Buffer.concat([
      ifinfomsg(0),
      encodeAttr([IFLA_IFNAME, peer]),
      encodeAttr([IFLA_NET_NS_FD, peerNetnsFd]),
    ]);
    this.#request(
      RTM_NEWLINK,
      NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
      ifinfomsg(0),
      [
        [IFLA_IFNAME, name],
        [
          IFLA_LINKINFO,
          [
            [IFLA_INFO_KIND, 'veth'],
            [IFLA_INFO_DATA, [[VETH_INFO_PEER, peerInfo]]],
          ],
        ],
      ],
      `link add ${name} type veth peer name ${peer}`,
    );
    return this.linkIndex(name);
  }

  /** Sets a link's alias (ifalias). */
  setAlias(index: number, name: string, alias: string): void {
    this.#request(
      RTM_NEWLINK,
      NLM_F_ACK,
      ifinfomsg(index),
      [[IFLA_IFALIAS, alias]],
      `link set ${name} alias`,
    );
  }

  /** Brings a link up. */
  setUp(index: number, name: string): void {
    this.#request(RTM_NEWLINK, NLM_F_ACK, ifinfomsg(index, IFF_UP, IFF_UP), [], `link set ${name} up`);
  }

  /** Turns IPv6 address generation off on a link: it gets no IPv6 address, not even link-local. */
  setAddrGenModeNone(index: number, name: string): void {
    this.#request(
      RTM_NEWLINK,
      NLM_F_ACK,
      ifinfomsg(index),
      [[IFLA_AF_SPEC, [[AF_INET6, [[IFLA_INET6_ADDR_GEN_MODE, u8(IN6_ADDR_GEN_MODE_NONE)]]]]]],
      `link set ${name} addrgenmode none`,
    );
  }

  /** Adds the IPv4 address `address/prefix` to a link. */
  addAddress(index: number, name: string, address: string, prefix: number): void {
    const header = Buffer.alloc(8);
    header.writeUInt8(AF_INET, 0);
    header.writeUInt8(prefix, 1);
    header.writeUInt32LE(index, 4);
    this.#request(
      RTM_NEWADDR,
      NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
      header,
      [
        [IFA_LOCAL, ipv4(address)],
        [IFA_ADDRESS, ipv4(address)],
      ],
      `addr add ${address}/${prefix} dev ${name}`,
    );
  }

  /** Every IPv4 route of this namespace, of every table. */
  ipv4Routes(): Route[] {
    const header = Buffer.alloc(12);
    header.writeUInt8(AF_INET, 0);
    return this.#request(RTM_GETROUTE, NLM_F_DUMP, header, [], 'route show').map((r) => {
      let table = r.readUInt8(4);
      for (let at = 12; at + 4 <= r.length;) {
        const length = r.readUInt16LE(at);
        if (length < 4) break;
        if ((r.readUInt16LE(at + 2) & ~NLA_F_NESTED) === RTA_TABLE) table = r.readUInt32LE(at + 4);
        at += (length + 3) & ~3;
      }
      return { dstLen: r.readUInt8(1), table };
    });
  }
}

/** Runs `fn` with a socket opened in the current thread's namespace, closed afterwards. */
export function withRtnetlink<T>(fn: (nl: Rtnetlink) => T): T {
  const nl = new Rtnetlink();
  try {
    return fn(nl);
  } finally {
    nl.close();
  }
}

export const RT_TABLE_MAIN = 254;
