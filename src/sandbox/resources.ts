import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AirlockError } from '../errors.js';
import { deleteLink, deleteNetns, ip, sysctl } from '../net/ip.js';
import { runCommand } from '../net/run.js';
import type { SandboxRecord } from '../store/sandbox-records.js';
import { openCgroup, type SandboxCgroup } from './cgroup.js';
import { GUEST_IF_PREFIX, interfaceName } from './names.js';
import {
  allowSandbox,
  disallowSandbox,
  loadGuestRuleset,
  loadHostRuleset,
  verifyGuestRules,
  verifyHostRules,
} from './firewall.js';

/** `ip netns exec` bind-mounts the files of /etc/netns/<name>/ over /etc inside the namespace. */
export const NETNS_ETC = '/etc/netns';

/** A resolver on the guest's own loopback, where nothing listens: lookups fail at once. */
const GUEST_RESOLV_CONF = 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n';

/**
 * The host end of a sandbox, made under the host-wide lock when its slot is chosen (see
 * allocation.ts): the veth pair, tagged at once with its home's alias (so gc of another
 * AIRLOCK_HOME recognises it, and leaves its namespace alone, from the moment anything of
 * this sandbox exists), and the gateway address, so every later allocator sees the slot
 * taken. The link stays down until the rules are in place.
 */
export async function createHostLink(r: SandboxRecord, home: string): Promise<void> {
  await ip(['link', 'add', r.hostIf, 'type', 'veth', 'peer', 'name', interfaceName(GUEST_IF_PREFIX, r.id)]);
  await ip(['link', 'set', r.hostIf, 'alias', linkAlias(home)]);
  await ip(['addr', 'add', `${r.gateway}/30`, 'dev', r.hostIf]);
}

/** The build steps `onStep` is called after; `link` is the host link made at allocation. */
export type BuildStep = 'link' | 'namespace' | 'rules' | 'addresses';

/**
 * Builds the rest of the kernel side of a sandbox whose host link exists: namespace, guest
 * end, addresses, no default route, IPv6 off, both rulesets, then verifies the rules. On any
 * failure the caller tears down.
 */
export async function buildNetwork(
  r: SandboxRecord,
  onStep: (step: BuildStep) => Promise<void> | void = () => undefined,
): Promise<void> {
  await onStep('link');
  const peer = interfaceName(GUEST_IF_PREFIX, r.id);
  await ip(['netns', 'add', r.netns]);
  await ip(['link', 'set', peer, 'netns', r.netns]);
  await ip(['-n', r.netns, 'link', 'set', peer, 'name', 'eth0']);
  mkdirSync(join(NETNS_ETC, r.netns), { recursive: true, mode: 0o755 });
  writeFileSync(join(NETNS_ETC, r.netns, 'resolv.conf'), GUEST_RESOLV_CONF, { mode: 0o644 });
  await onStep('namespace');

  await sysctl(`net.ipv6.conf.${r.hostIf}.disable_ipv6`, '1');
  await sysctl(`net.ipv4.conf.${r.hostIf}.rp_filter`, '1');
  await sysctl('net.ipv6.conf.all.disable_ipv6', '1', r.netns);
  await sysctl('net.ipv6.conf.default.disable_ipv6', '1', r.netns);
  await sysctl('net.ipv6.conf.eth0.disable_ipv6', '1', r.netns);

  // The guest ruleset goes in before its link comes up.
  await loadGuestRuleset(r.netns, r.gateway, r.proxyPort);
  await loadHostRuleset();
  await allowSandbox(r);
  await onStep('rules');

  await ip(['link', 'set', r.hostIf, 'up']);
  await ip(['-n', r.netns, 'addr', 'add', `${r.guest}/30`, 'dev', 'eth0']);
  await ip(['-n', r.netns, 'link', 'set', 'lo', 'up']);
  await ip(['-n', r.netns, 'link', 'set', 'eth0', 'up']);
  await onStep('addresses');

  await verifyHostRules(r);
  await verifyGuestRules(r.netns, r.gateway);
  await verifyNoRoutesOut(r.netns);
}

async function verifyNoRoutesOut(netns: string): Promise<void> {
  const routes = await ip(['-n', netns, '-j', 'route', 'show', 'default']);
  if (routes.trim() !== '' && routes.trim() !== '[]') {
    throw new AirlockError('AIRLOCK_ERR_NFT_VERIFY', `guest namespace ${netns} has a default route`);
  }
}

/** Kills every process still inside a namespace (a guest outliving a crashed airlock). */
async function killNetnsProcesses(netns: string): Promise<void> {
  const r = await runCommand('ip', ['netns', 'pids', netns]);
  if (!r.ok) return;
  for (const pid of r.stdout.split(/\s+/).filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

type TeardownTarget = Pick<SandboxRecord, 'id' | 'netns' | 'hostIf' | 'gateway' | 'guest' | 'proxyPort'>;

/**
 * Removes everything a sandbox may have created: its processes first (the whole cgroup, then
 * anything left in the namespace), then the set element, link, namespace and /etc/netns
 * folder, then the cgroup. Each step is idempotent ("not found" = done) and runs even when
 * an earlier one failed.
 */
export async function teardownSandbox(r: TeardownTarget, cgroup: SandboxCgroup = openCgroup(r.id)) {
  const errors: unknown[] = [];
  const step = async (fn: () => Promise<void> | void) => {
    try {
      await fn();
    } catch (e) {
      errors.push(e);
    }
  };
  await step(() => disallowSandbox(r));
  await step(() => cgroup.kill());
  await step(() => killNetnsProcesses(r.netns));
  // The link first: deleting it removes both veth ends at once, while a namespace holding
  // sockets in TIME_WAIT is dismantled by the kernel later, in the background.
  await step(() => deleteLink(r.hostIf));
  await step(() => deleteNetns(r.netns));
  await step(() => rmSync(join(NETNS_ETC, r.netns), { recursive: true, force: true }));
  await step(() => cgroup.remove());
  if (errors.length > 0) {
    throw new AirlockError(
      'AIRLOCK_ERR_NET_SETUP',
      `teardown of ${r.netns} incomplete: ${errors.map(String).join('; ')}`,
    );
  }
}

/**
 * The alias every sandbox link carries: it names the state directory that owns it, so gc of
 * one AIRLOCK_HOME never removes the sandboxes of another.
 */
export function linkAlias(home: string): string {
  return `${LINK_ALIAS_PREFIX}${home}`;
}

export const LINK_ALIAS_PREFIX = 'airlock:';

/** Start time of a process (field 22 of /proc/PID/stat), null when it is not running. */
export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/** Whether the airlock process that made a sandbox is still running (and is the same process). */
export function ownerAlive(r: Pick<SandboxRecord, 'ownerPid' | 'ownerStart'>): boolean {
  const start = processStartTime(r.ownerPid);
  return start !== null && (r.ownerStart === null || start === r.ownerStart);
}
