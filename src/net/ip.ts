import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { AirlockError } from '../errors.js';
import { programPath, runCommand } from './run.js';

/** Runs `ip ARGS…` and throws AIRLOCK_ERR_NET_SETUP naming the command on failure. */
export async function ip(args: readonly string[]): Promise<string> {
  const r = await runCommand('ip', args);
  if (!r.ok)
    throw new AirlockError('AIRLOCK_ERR_NET_SETUP', `${['ip', ...args].join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** Runs a program inside a network namespace (`ip netns exec NS PROGRAM ARGS…`). */
export function execInNetns(netns: string, program: string, args: readonly string[], input?: string) {
  return runCommand('ip', ['netns', 'exec', netns, programPath(program), ...args], input);
}

/** One host interface: its name, alias (ifalias, '' when none) and addresses. */
export interface HostInterface {
  name: string;
  alias: string;
  /** IPv4 addresses */
  ipv4: string[];
  /** IPv6 addresses, link-local ones with `%ifname` */
  ipv6: string[];
}

/** Where the kernel lists the host's network interfaces, one folder each. */
const SYS_CLASS_NET = '/sys/class/net';

/** The host's links with their aliases ('' when none), read from sysfs: no process. */
export function hostLinks(): { name: string; alias: string }[] {
  return readdirSync(SYS_CLASS_NET).map((name) => {
    let alias = '';
    try {
      alias = readFileSync(`${SYS_CLASS_NET}/${name}/ifalias`, 'utf8').trimEnd();
    } catch {
      // gone meanwhile
    }
    return { name, alias };
  });
}

/**
 * The IPv4 addresses local to the host, read from the kernel's routing tables
 * (`/proc/net/fib_trie`, each address a `/32 host LOCAL` leaf): no process. An address on an
 * interface that is administratively down has no local route and is not listed; every
 * sandbox link is up from the batch that gives it its address.
 */
export function localIpv4Addresses(): string[] {
  const addresses = new Set<string>();
  let last = '';
  for (const line of readFileSync('/proc/net/fib_trie', 'utf8').split('\n')) {
    const leaf = /\|-- (\S+)/.exec(line);
    if (leaf) last = leaf[1]!;
    else if (line.trim() === '/32 host LOCAL') addresses.add(last);
  }
  return [...addresses];
}

/** Every interface of the host with its alias and addresses, from one `ip -j -d addr show`. */
export async function listInterfaces(): Promise<HostInterface[]> {
  type Entry = {
    ifname: string;
    ifalias?: string;
    addr_info?: { family: string; local: string; scope: string }[];
  };
  return (JSON.parse(await ip(['-j', '-d', 'addr', 'show'])) as Entry[]).map((l) => {
    const addresses = l.addr_info ?? [];
    return {
      name: l.ifname,
      alias: l.ifalias ?? '',
      ipv4: addresses.filter((a) => a.family === 'inet').map((a) => a.local),
      ipv6: addresses
        .filter((a) => a.family === 'inet6')
        .map((a) => (a.scope === 'link' ? `${a.local}%${l.ifname}` : a.local)),
    };
  });
}

/** Every IPv4 address configured on the host's interfaces. */
export async function listIpv4Addresses(): Promise<string[]> {
  return (await listInterfaces()).flatMap((i) => i.ipv4);
}

/** Every IPv6 address configured on the host's interfaces (link-local ones with `%ifname`). */
export async function listIpv6Addresses(): Promise<string[]> {
  return (await listInterfaces()).flatMap((i) => i.ipv6);
}

/** Idempotent: a link that is already gone counts as removed. */
export async function deleteLink(name: string): Promise<void> {
  const r = await runCommand('ip', ['link', 'delete', name]);
  if (!r.ok && !/Cannot find device|does not exist|No such device/i.test(r.stderr)) {
    throw new AirlockError('AIRLOCK_ERR_NET_SETUP', `ip link delete ${name} failed: ${r.stderr}`);
  }
}

/** Sets sysctls of the host's own network namespace, written straight to /proc/sys. */
export function setHostSysctls(settings: Record<string, string>): void {
  for (const [key, value] of Object.entries(settings)) {
    try {
      writeFileSync(`/proc/sys/${key.replaceAll('.', '/')}`, value);
    } catch (cause) {
      throw new AirlockError('AIRLOCK_ERR_NET_SETUP', `sysctl ${key}=${value} failed: ${String(cause)}`, {
        cause,
      });
    }
  }
}

/** Sets sysctls inside a network namespace, all in one `sysctl` process. */
export async function setNetnsSysctls(netns: string, settings: Record<string, string>): Promise<void> {
  const assignments = Object.entries(settings).map(([key, value]) => `${key}=${value}`);
  const r = await execInNetns(netns, 'sysctl', ['-qw', ...assignments]);
  if (!r.ok) {
    throw new AirlockError(
      'AIRLOCK_ERR_NET_SETUP',
      `sysctl ${assignments.join(' ')} in ${netns} failed: ${r.stderr}`,
    );
  }
}
