import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { deleteLink, ip, listInterfaces } from '../../src/net/ip.js';
import { deleteNetns, listNetns } from '../../src/net/netns.js';
import { nftApply, nftQuery } from '../../src/net/nft.js';
import { listSandboxCgroups } from '../../src/sandbox/cgroup.js';

/**
 * A hermetic "fake internet": its own namespace holding 203.0.113.0/24 and 2001:db8::/32,
 * joined to the host by a veth with a host route (never forwarding, never NAT). Catch-all
 * listeners count every TCP/UDP hit, and an nftables counter counts every packet that
 * arrives from anywhere but the host's own end of the link.
 */
export interface FakeInternet {
  netns: string;
  hostIf: string;
  /** addresses that answer inside the fake internet */
  v4: string[];
  v6: string[];
  /** the host's own end of the link */
  hostV4: string;
  hostV6: string;
  tcpPorts: number[];
  udpPorts: number[];
  /** listener hits plus packets from anyone but the host end, since creation */
  hits(): { listener: number; packets: number; detail: unknown[] };
  close(): Promise<void>;
}

/** Test resources use their own prefixes, so `airlock gc` never mistakes them for sandboxes. */
export const FAKE_INTERNET_PREFIX = 'alfi-';
const SERVER = fileURLToPath(new URL('../fixtures/catch-all-server.mjs', import.meta.url));

export async function createFakeInternet(
  ports: { tcp?: number[]; udp?: number[] } = {},
): Promise<FakeInternet> {
  const id = randomBytes(3).toString('hex');
  const netns = `${FAKE_INTERNET_PREFIX}${id}`;
  const hostIf = `${FAKE_INTERNET_PREFIX}${id}`;
  const tcpPorts = ports.tcp ?? [22, 80, 443, 8080, 47_123];
  const udpPorts = ports.udp ?? [53, 123, 443];
  const v4 = ['203.0.113.1', '203.0.113.10'];
  const v6 = ['2001:db8::1', '2001:db8::10'];
  const hostV4 = '203.0.113.254';
  const hostV6 = '2001:db8::fe';
  let server: ChildProcess | undefined;
  const hits: unknown[] = [];
  const fi: FakeInternet = {
    netns,
    hostIf,
    v4,
    v6,
    hostV4,
    hostV6,
    tcpPorts,
    udpPorts,
    hits() {
      const counter = nftQuery(['-j', 'list', 'counter', 'inet', 'fake_internet', 'inbound'], netns);
      const packets = counter
        ? (JSON.parse(counter) as { nftables: { counter?: { packets: number } }[] })
        : null;
      return {
        listener: hits.length,
        packets: packets?.nftables.find((i) => i.counter)?.counter?.packets ?? -1,
        detail: [...hits],
      };
    },
    async close() {
      server?.kill('SIGKILL');
      deleteNetns(netns);
      await deleteLink(hostIf);
    },
  };
  try {
    await assertUnrouted(v4[0]!);
    await ip(['netns', 'add', netns]);
    await ip(['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns]);
    await ip(['addr', 'add', `${hostV4}/24`, 'dev', hostIf]);
    await ip(['-6', 'addr', 'add', `${hostV6}/32`, 'dev', hostIf, 'nodad']);
    await ip(['link', 'set', hostIf, 'up']);
    for (const a of v4) await ip(['-n', netns, 'addr', 'add', `${a}/24`, 'dev', 'eth0']);
    for (const a of v6) await ip(['-n', netns, '-6', 'addr', 'add', `${a}/32`, 'dev', 'eth0', 'nodad']);
    await ip(['-n', netns, 'link', 'set', 'lo', 'up']);
    await ip(['-n', netns, 'link', 'set', 'eth0', 'up']);
    // Network safety: test traffic to these addresses must end in this namespace, never on
    // the host's uplink. Refuse to go on unless the kernel routes them through our link.
    for (const a of [...v4, ...v6]) {
      const route = await ip(['route', 'get', a]);
      if (!route.includes(`dev ${hostIf} `))
        throw new Error(`fake internet: ${a} is not routed via ${hostIf}: ${route}`);
    }
    // Anything that reaches the fake internet from an address other than the host's end of
    // the link was forwarded or spoofed: that is an escape, and this counter sees it.
    nftApply(
      `table inet fake_internet {
        counter inbound { }
        chain input {
          type filter hook input priority filter; policy accept;
          iifname "eth0" ip saddr != ${hostV4} meta l4proto { tcp, udp, icmp } counter name inbound
          iifname "eth0" ip6 saddr != ${hostV6} meta l4proto { tcp, udp } counter name inbound
          iifname "eth0" icmpv6 type echo-request counter name inbound
        }
      }\n`,
      netns,
    );
    server = spawn(
      'ip',
      ['netns', 'exec', netns, process.execPath, SERVER, JSON.stringify({ tcp: tcpPorts, udp: udpPorts })],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const lines = createInterface({ input: server.stdout! });
    await new Promise<void>((resolve, reject) => {
      server!.once('exit', (code) => reject(new Error(`fake internet server exited (${code})`)));
      lines.on('line', (line) => {
        const msg = JSON.parse(line) as { ready?: boolean };
        if (msg.ready) resolve();
        else hits.push(msg);
      });
    });
    return fi;
  } catch (error) {
    await fi.close();
    throw error;
  }
}

/** Only one fake internet at a time: its addresses must not already lead anywhere but the default route. */
async function assertUnrouted(address: string): Promise<void> {
  const routes = await ip(['-j', 'route', 'show', 'match', address]);
  const specific = (JSON.parse(routes) as { dst: string }[]).filter((r) => r.dst !== 'default');
  if (specific.length > 0)
    throw new Error(`fake internet: ${address} is already routed (${routes}); a test left one behind`);
}

/** Everything airlock or the bench may have left: namespaces, links, nft elements, cgroups. */
export async function leftovers(): Promise<{
  netns: string[];
  links: string[];
  elements: number;
  cgroups: string[];
}> {
  const netns = listNetns().filter((n) => n.startsWith('airlock-') || n.startsWith(FAKE_INTERNET_PREFIX));
  const links = (await listInterfaces())
    .map((l) => l.name)
    .filter((l) => l.startsWith('al-') || l.startsWith(FAKE_INTERNET_PREFIX));
  const set = nftQuery(['-j', 'list', 'set', 'inet', 'airlock', 'allowed']);
  const elements = set
    ? ((JSON.parse(set) as { nftables: { set?: { elem?: unknown[] } }[] }).nftables.find((i) => i.set)?.set
        ?.elem?.length ?? 0)
    : 0;
  return { netns, links, elements, cgroups: listSandboxCgroups() };
}
