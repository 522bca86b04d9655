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
export function inNetns(netns: string, program: string, args: readonly string[], input?: string) {
  return runCommand('ip', ['netns', 'exec', netns, programPath(program), ...args], input);
}

export async function listNetns(): Promise<string[]> {
  const r = await runCommand('ip', ['-j', 'netns', 'list']);
  if (!r.ok || r.stdout.trim() === '') return [];
  return (JSON.parse(r.stdout) as { name: string }[]).map((n) => n.name);
}

/** The host's links with their alias (ifalias), '' when they have none. */
export async function listLinks(): Promise<{ name: string; alias: string }[]> {
  const r = await runCommand('ip', ['-j', 'link', 'show']);
  if (!r.ok) return [];
  return (JSON.parse(r.stdout) as { ifname: string; ifalias?: string }[]).map((l) => ({
    name: l.ifname,
    alias: l.ifalias ?? '',
  }));
}

/** Every IPv4 address configured on the host's interfaces. */
export async function listIpv4Addresses(): Promise<string[]> {
  const out = await ip(['-4', '-j', 'addr', 'show']);
  return (JSON.parse(out) as { addr_info?: { local: string }[] }[]).flatMap((l) =>
    (l.addr_info ?? []).map((a) => a.local),
  );
}

/** Every IPv6 address configured on the host's interfaces (link-local ones with `%ifname`). */
export async function listIpv6Addresses(): Promise<string[]> {
  const out = await ip(['-6', '-j', 'addr', 'show']);
  return (JSON.parse(out) as { ifname: string; addr_info?: { local: string; scope: string }[] }[]).flatMap(
    (l) => (l.addr_info ?? []).map((a) => (a.scope === 'link' ? `${a.local}%${l.ifname}` : a.local)),
  );
}

/** Idempotent: a namespace that is already gone counts as removed. */
export async function deleteNetns(netns: string): Promise<void> {
  const r = await runCommand('ip', ['netns', 'delete', netns]);
  if (!r.ok && !/No such file|not found|Invalid netns/i.test(r.stderr)) {
    throw new AirlockError('AIRLOCK_ERR_NET_SETUP', `ip netns delete ${netns} failed: ${r.stderr}`);
  }
}

/** Idempotent: a link that is already gone counts as removed. */
export async function deleteLink(name: string): Promise<void> {
  const r = await runCommand('ip', ['link', 'delete', name]);
  if (!r.ok && !/Cannot find device|does not exist|No such device/i.test(r.stderr)) {
    throw new AirlockError('AIRLOCK_ERR_NET_SETUP', `ip link delete ${name} failed: ${r.stderr}`);
  }
}

/** Sets a sysctl, in a namespace when `netns` is given. */
export async function sysctl(key: string, value: string, netns?: string): Promise<void> {
  const args = ['-qw', `${key}=${value}`];
  const r = netns === undefined ? await runCommand('sysctl', args) : await inNetns(netns, 'sysctl', args);
  if (!r.ok) throw new AirlockError('AIRLOCK_ERR_NET_SETUP', `sysctl ${key}=${value} failed: ${r.stderr}`);
}
