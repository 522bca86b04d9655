import { existsSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { AirlockError } from '../errors.js';
import { deleteLink, setHostSysctls } from '../net/ip.js';
import { addNetns, deleteNetns, inNetns, NETNS_RUN_DIR, netnsExists, withNetnsFd } from '../net/netns.js';
import { RT_TABLE_MAIN, withRtnetlink } from '../net/rtnetlink.js';
import type { SandboxRecord } from '../store/sandbox-records.js';
import { openCgroup, type SandboxCgroup } from './cgroup.js';
import { allowSandbox, disallowSandbox, loadGuestRuleset } from './firewall.js';

/**
 * Where `ip netns exec` finds a namespace's own /etc files. Airlock before stop 22 kept each
 * sandbox's resolv.conf there; teardown and gc still remove such a folder.
 */
export const NETNS_ETC = '/etc/netns';

/**
 * The namespace and veth pair of a sandbox, made under the host-wide lock when its slot is
 * chosen (see allocation.ts), in this process (netns.ts, rtnetlink.ts): the namespace, the
 * pair with its guest end born inside as eth0, the host end tagged at once with its home's
 * alias (so gc of another AIRLOCK_HOME recognises it, and leaves its namespace alone) and
 * given the gateway address, so every later allocator sees the slot taken. The host end is up
 * from here on, but carries nothing until the guest end comes up, after its IPv6 is off and
 * reverse-path filtering strict.
 */
export function createHostLink(r: SandboxRecord, home: string): void {
  addNetns(r.netns);
  withNetnsFd(r.netns, (peerNetns) =>
    withRtnetlink((nl) => {
      const index = nl.addVeth(r.hostIf, 'eth0', peerNetns);
      nl.setAlias(index, r.hostIf, linkAlias(home));
      nl.addAddress(index, r.hostIf, r.gateway, 30);
      nl.setUp(index, r.hostIf);
    }),
  );
}

/** The build steps `onStep` is called after; `link` is the namespace and host link made at allocation. */
export type BuildStep = 'link' | 'network';

/**
 * Builds the rest of the kernel side of a sandbox whose namespace and host link exist: the
 * guest ruleset, the host ruleset with the sandbox's element (one transaction), each checked
 * against the kernel's echo of what it committed, and the guest's addresses and links, with no
 * IPv6 address and a check that it has no default route. No process runs inside until this
 * resolves, so the order among the three does not matter. On any failure the caller tears
 * down, after all three have ended.
 */
export async function buildNetwork(
  r: SandboxRecord,
  onStep: (step: BuildStep) => Promise<void> | void = () => undefined,
): Promise<void> {
  await onStep('link');
  setHostSysctls({
    [`net.ipv6.conf.${r.hostIf}.disable_ipv6`]: '1',
    [`net.ipv4.conf.${r.hostIf}.rp_filter`]: '1',
  });
  loadGuestRuleset(r.netns, r.gateway, r.proxyPort);
  allowSandbox(r);
  configureGuestLinks(r);
  await onStep('network');
}

/**
 * Inside the namespace: eth0 without IPv6 (no address is generated for it; the host end has
 * IPv6 off and both rulesets drop it), its address, both links up, and no default route.
 */
function configureGuestLinks(r: SandboxRecord): void {
  const defaults = inNetns(r.netns, () =>
    withRtnetlink((nl) => {
      const eth0 = nl.linkIndex('eth0');
      nl.setAddrGenModeNone(eth0, 'eth0');
      nl.addAddress(eth0, 'eth0', r.guest, 30);
      nl.setUp(nl.linkIndex('lo'), 'lo');
      nl.setUp(eth0, 'eth0');
      return nl.ipv4Routes().filter((route) => route.dstLen === 0);
    }),
  );
  if (defaults.length > 0) {
    const tables = defaults.map((d) => (d.table === RT_TABLE_MAIN ? 'main' : String(d.table)));
    throw new AirlockError(
      'AIRLOCK_ERR_NFT_VERIFY',
      `guest namespace ${r.netns} has a default route (table ${tables.join(', ')})`,
    );
  }
}

/** The inode of a named namespace, which its processes' /proc/PID/ns/net name; null when it has no name. */
function netnsInode(netns: string): number | null {
  try {
    return statSync(join(NETNS_RUN_DIR, netns)).ino;
  } catch {
    return null;
  }
}

/** Kills every process still inside a namespace (a guest outliving a crashed airlock), found through /proc. */
function killNetnsProcesses(inode: number | null): void {
  if (inode === null) return; // no namespace, no process in it
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readlinkSync(`/proc/${pid}/ns/net`) === `net:[${inode}]`) process.kill(Number(pid), 'SIGKILL');
    } catch {
      // exited meanwhile
    }
  }
}

type TeardownTarget = Pick<SandboxRecord, 'id' | 'netns' | 'hostIf' | 'gateway' | 'guest' | 'proxyPort'>;

/**
 * Removes everything a sandbox may have created: its set element, its processes (the whole
 * cgroup), then the namespace's name, the /etc/netns folder and the cgroup. Anything left in
 * the namespace outside the cgroup is killed while the kernel dismantles the namespace, and
 * the link with it, which it does once the namespace's last process has gone. Each step is idempotent ("not found" = done) and
 * runs even when an earlier one failed.
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
  const element = step(() => disallowSandbox(r));
  await step(() => cgroup.kill());
  const inode = netnsInode(r.netns); // read before the name goes
  // the rest goes at once (the cgroup while the kernel takes the link)
  const removed = [
    step(() => removeLinkAndNetns(r.hostIf, r.netns)),
    step(() => rmSync(join(NETNS_ETC, r.netns), { recursive: true, force: true })),
  ];
  await step(() => killNetnsProcesses(inode));
  await Promise.all([...removed, step(() => cgroup.remove()), element]);
  if (errors.length > 0) {
    throw new AirlockError(
      'AIRLOCK_ERR_NET_SETUP',
      `teardown of ${r.netns} incomplete: ${errors.map(String).join('; ')}`,
    );
  }
}

/** How long a deleted namespace may take to take its veth pair with it before the link is deleted itself. */
export const LINK_GONE_MS = 250;

/**
 * Deletes what of the namespace and link exists ("not found" = done), and returns once the
 * host's end of the link is gone. The namespace goes first: the kernel then dismantles it, and
 * the veth pair with it, in the background (~10 ms here), while deleting the link waits ~25 ms
 * for an RCU grace period. Should the namespace outlive its name (something still holds it
 * open), the link is deleted after LINK_GONE_MS all the same.
 */
async function removeLinkAndNetns(hostIf: string, netns: string): Promise<void> {
  const link = `/sys/class/net/${hostIf}`;
  if (netnsExists(netns)) {
    deleteNetns(netns);
    if (await gone(link, LINK_GONE_MS)) return;
  }
  if (existsSync(link)) await deleteLink(hostIf);
}

/** True once `path` no longer exists, false if it still does after `ms` (checked every millisecond). */
async function gone(path: string, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (existsSync(path)) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  return true;
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
