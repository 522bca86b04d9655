import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { TestContext } from 'node:test';
import { listIpv4Addresses } from '../../src/net/ip.js';
import { nftApply, nftQuery } from '../../src/net/nft.js';
import type { Sandbox } from '../../src/sandbox/sandbox.js';
import { probe, type ScanResult } from './sandbox-bench.js';

/** What got past airlock's host table from one sandbox interface. */
export interface Witnessed {
  /** `address:port` of every TCP destination a packet reached */
  tcp: string[];
  /** `address:port` of every UDP destination a packet reached */
  udp: string[];
  /** other packets (ICMP…) delivered to the host, and packets forwarded anywhere */
  other: number;
}

const WITNESS_PREFIX = 'airlock_witness_';

/** Deletes witness tables whose test process is gone (killed before its t.after ran). */
function removeOrphanedWitnesses(): void {
  const tables = nftQuery(['list', 'tables']) ?? '';
  for (const [, name, pid] of tables.matchAll(/table inet (airlock_witness_(?:(\d+)_)?[0-9a-f]+)/g)) {
    if (pid !== undefined && existsSync(`/proc/${pid}`)) continue;
    nftApply(`delete table inet ${name}\n`);
  }
}

/**
 * A table of the test's own whose chains run after airlock's (higher priority number) on the
 * input and forward hooks: a packet from the sandbox's interface shows up here only if
 * airlock's table let it through. It tells an accept from a reject even where no listener
 * is behind a port (a reset from a closed port looks like a reject from outside).
 */
export function witnessHostTable(t: TestContext, hostIf: string): () => Witnessed {
  removeOrphanedWitnesses();
  // the creator's pid in the name: a run killed before its cleanup is swept by the next one
  const table = `${WITNESS_PREFIX}${process.pid}_${randomBytes(3).toString('hex')}`;
  nftApply(`table inet ${table} {
  set seen_tcp { type ipv4_addr . inet_service; flags dynamic; size 1048576; }
  set seen_udp { type ipv4_addr . inet_service; flags dynamic; size 65536; }
  counter other {}
  chain input {
    type filter hook input priority 100; policy accept;
    iifname "${hostIf}" meta l4proto tcp add @seen_tcp { ip daddr . tcp dport }
    iifname "${hostIf}" meta l4proto udp add @seen_udp { ip daddr . udp dport }
    iifname "${hostIf}" meta l4proto != { tcp, udp } counter name other
  }
  chain forward {
    type filter hook forward priority 100; policy accept;
    iifname "${hostIf}" counter name other
  }
}
`);
  t.after(() => nftApply(`delete table inet ${table}\n`));
  return () => {
    const elements = (set: string) => {
      const out = nftQuery(['-j', 'list', 'set', 'inet', table, set]);
      type Elem = { concat: [string, number] } | { elem: { val: { concat: [string, number] } } };
      const items = (JSON.parse(out ?? '{"nftables":[]}') as { nftables: { set?: { elem?: Elem[] } }[] })
        .nftables;
      return (items.find((i) => i.set)?.set?.elem ?? [])
        .map((e) => ('concat' in e ? e.concat : e.elem.val.concat))
        .map(([address, port]) => `${address}:${port}`)
        .sort();
    };
    const counter = nftQuery(['-j', 'list', 'counter', 'inet', table, 'other']);
    const other =
      (
        JSON.parse(counter ?? '{"nftables":[]}') as { nftables: { counter?: { packets: number } }[] }
      ).nftables.find((i) => i.counter)?.counter?.packets ?? 0;
    return { tcp: elements('seen_tcp'), udp: elements('seen_udp'), other };
  };
}

/** Every IPv4 address of the host a guest could aim at (loopback stays inside the guest). */
export async function hostTargets(): Promise<string[]> {
  return (await listIpv4Addresses()).filter((a) => !a.startsWith('127.'));
}

/**
 * From inside the sandbox: a SYN to every TCP port of every host address and a datagram to
 * common UDP ports, then what the host table let through.
 */
export async function attackEveryPort(
  t: TestContext,
  sb: Sandbox,
  witnessed: () => Witnessed,
): Promise<Witnessed> {
  const targets = await hostTargets();
  await probe<ScanResult>(t, sb, [
    ...targets.map((host) => ({ scan: host, from: 1, to: 65535 })),
    ...targets.flatMap((host) => [53, 67, 123, 443, 5353, sb.proxyPort].map((port) => ({ udp: host, port }))),
  ]);
  return witnessed();
}
