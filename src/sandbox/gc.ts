import { existsSync, readdirSync } from 'node:fs';
import { hostLinks } from '../net/ip.js';
import { listNetns } from '../net/netns.js';
import { withHostLock } from '../store/host-lock.js';
import { allowedEntries } from './firewall.js';
import { HOST_IF_PREFIX, NETNS_PREFIX } from './names.js';
import { listSandboxCgroups } from './cgroup.js';
import { LINK_ALIAS_PREFIX, linkAlias, NETNS_ETC, ownerAlive, teardownSandbox } from './resources.js';
import type { State } from './state.js';

/** What one gc pass removed. */
export interface GcReport {
  /** sandboxes whose airlock process is gone, torn down and marked ended */
  sandboxes: string[];
  /** namespaces, links and set elements that no live sandbox owns */
  namespaces: string[];
  links: string[];
  elements: string[];
  /** sandbox cgroups (their processes killed) that no live sandbox owns */
  cgroups: string[];
}

const idOfNetns = (netns: string) => netns.slice(NETNS_PREFIX.length);
/** Whether the state directory a link's alias names still exists (an unknown alias counts as existing). */
const homeExists = (alias: string) =>
  !alias.startsWith(LINK_ALIAS_PREFIX) || existsSync(alias.slice(LINK_ALIAS_PREFIX.length));
const idOfLink = (link: string) => link.slice(HOST_IF_PREFIX.length);

/**
 * Finds and removes what crashed runs left behind: live records whose owner process is gone,
 * and the airlock namespaces, links, set elements, /etc/netns folders and cgroups (with any
 * process still in them) that no live sandbox owns. A link whose alias names another state directory belongs to another
 * airlock home and is left alone, with its namespace.
 */
export async function collectGarbage(state: State): Promise<GcReport> {
  const report = await collectSandboxGarbage(state);
  return { ...report, elements: await removeStaleElements() };
}

/**
 * `collectGarbage` without the set elements (no process unless something is left to remove):
 * what must be done before a sandbox is built. `removeStaleElements` may run afterwards, at the
 * same time as the build.
 */
export async function collectSandboxGarbage(state: State): Promise<GcReport> {
  const report: GcReport = { sandboxes: [], namespaces: [], links: [], elements: [], cgroups: [] };
  for (const r of state.sandboxes.live()) {
    if (ownerAlive(r)) continue;
    await teardownSandbox(r);
    state.sandboxes.end(r.id, null);
    report.sandboxes.push(r.id);
  }
  // List the kernel's resources under the host-wide lock, then read the live records.
  // Allocation commits a sandbox's record and then makes its namespace and tagged link together
  // under that lock, before anything else of the sandbox exists (its cgroup comes last): so every namespace,
  // folder and cgroup seen here belongs to a link seen here too (whose alias names
  // its home) or is a leftover, and nothing seen here can belong to a sandbox this home is
  // still making without a record.
  const { netnsNow, linksNow, etc, cgroupsNow } = await withHostLock(listResources);
  const live = new Set(state.sandboxes.live().map((r) => r.id));
  const ours = linkAlias(state.home);
  // another home's sandbox is left to that home's gc, unless that home is gone for good
  const foreign = new Set(
    linksNow.filter((l) => l.alias !== ours && homeExists(l.alias)).map((l) => idOfLink(l.name)),
  );
  const orphans = new Set<string>();
  for (const id of [
    ...netnsNow.map(idOfNetns),
    ...etc.map(idOfNetns),
    ...linksNow.map((l) => idOfLink(l.name)),
    ...cgroupsNow,
  ]) {
    if (!live.has(id) && !foreign.has(id)) orphans.add(id);
  }
  const existingLinks = new Set(linksNow.map((l) => l.name));
  for (const id of orphans) {
    const netns = `${NETNS_PREFIX}${id}`;
    const hostIf = `${HOST_IF_PREFIX}${id}`;
    await teardownSandbox({ id, netns, hostIf, gateway: '0.0.0.0', guest: '0.0.0.0', proxyPort: 0 });
    if (netnsNow.includes(netns)) report.namespaces.push(netns);
    if (existingLinks.has(hostIf)) report.links.push(hostIf);
    if (cgroupsNow.includes(id)) report.cgroups.push(id);
  }
  return report;
}

/**
 * Removes the `allowed` set elements whose link is gone: such an element can never match a
 * packet again, so whoever made it, it is stale (an orphan's link was removed above, and its
 * element goes here). No lock is needed: the elements are listed before the links, and a
 * sandbox adds its element only once its link exists, so a listed element of a live sandbox
 * always finds its link. Returns the host links of the elements removed.
 */
export async function removeStaleElements(): Promise<string[]> {
  const elementsNow = allowedEntries();
  if (elementsNow.length === 0) return [];
  const existingLinks = new Set(hostLinks().map((l) => l.name));
  const removed: string[] = [];
  for (const e of elementsNow) {
    if (existingLinks.has(e.hostIf)) continue;
    const id = idOfLink(e.hostIf);
    await teardownSandbox({ id, netns: `${NETNS_PREFIX}${id}`, ...e });
    removed.push(e.hostIf);
  }
  return removed;
}

/** The airlock namespaces, links and /etc/netns folders on the host. */
function listResources() {
  const netnsNow = listNetns().filter((n) => n.startsWith(NETNS_PREFIX));
  const linksNow = hostLinks().filter((l) => l.name.startsWith(HOST_IF_PREFIX));
  let etc: string[] = [];
  try {
    etc = readdirSync(NETNS_ETC).filter((n) => n.startsWith(NETNS_PREFIX));
  } catch {
    // no /etc/netns yet
  }
  return { netnsNow, linksNow, etc, cgroupsNow: listSandboxCgroups() };
}
