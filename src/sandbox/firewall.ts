import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AirlockError } from '../errors.js';
import { nftApply, nftQuery } from '../net/nft.js';

/** the folder of .nft rulesets, two levels up from src/sandbox or dist/sandbox */
export const NETNS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'netns');

/** The facts of one sandbox that the host table enforces. */
export interface FirewallEntry {
  hostIf: string;
  guest: string;
  gateway: string;
  proxyPort: number;
}

function element(e: FirewallEntry): string {
  return `{ "${e.hostIf}" . ${e.guest} . ${e.gateway} . ${e.proxyPort} }`;
}

/** netns/airlock.nft: loading it again is idempotent and atomic; live sandboxes' elements survive. */
function hostRuleset(): string {
  return readFileSync(join(NETNS_DIR, 'airlock.nft'), 'utf8');
}

/**
 * Loads the host ruleset and adds the sandbox's element in one atomic transaction; fails
 * closed unless the kernel's echo of what it committed (same call) holds every rule
 * and the element.
 */
export function allowSandbox(e: FirewallEntry): void {
  checkHostEcho(
    nftApply(`${hostRuleset()}\nadd element inet airlock allowed ${element(e)}\n`, undefined, true),
    e,
  );
}

/** Idempotent: an element that is already gone counts as removed. */
export function disallowSandbox(e: FirewallEntry): void {
  nftQuery(['delete', 'element', 'inet', 'airlock', 'allowed', element(e)]);
}

/** The elements of the `allowed` set, for finding leftovers of crashed runs. */
export function allowedEntries(): FirewallEntry[] {
  const out = nftQuery(['-j', 'list', 'set', 'inet', 'airlock', 'allowed']);
  if (out === null) return [];
  type Elem = { concat: [string, string, string, number] };
  const items = (JSON.parse(out) as { nftables: { set?: { elem?: Elem[] } }[] }).nftables;
  const elems = items.find((i) => i.set)?.set?.elem ?? [];
  return elems.map(({ concat: [hostIf, guest, gateway, proxyPort] }) => ({
    hostIf,
    guest,
    gateway,
    proxyPort,
  }));
}

/** Throws AIRLOCK_ERR_NFT_VERIFY unless the echo of a host transaction holds the rules and the element. */
export function checkHostEcho(echo: string, e: FirewallEntry): void {
  const text = echo.replace(/\s+/g, ' ');
  const checks: [string, boolean][] = [
    ['input hook jumping to from_sandbox', text.includes('iifname "al-*" jump from_sandbox')],
    ['the @allowed accept rule', text.includes('@allowed accept')],
    ['the catch-all reject', text.includes('reject with icmpx admin-prohibited')],
    ['the forward drop', text.includes('oifname "al-*" drop')],
    [`element for ${e.hostIf}`, text.includes(`"${e.hostIf}" . ${e.guest} . ${e.gateway} . ${e.proxyPort}`)],
  ];
  const missing = checks.filter(([, ok]) => !ok).map(([what]) => what);
  if (missing.length > 0) {
    throw new AirlockError(
      'AIRLOCK_ERR_NFT_VERIFY',
      `host nftables rules not in place: ${missing.join(', ')}`,
    );
  }
}

/**
 * Loads netns/guest.nft inside the sandbox's namespace; fails closed unless the kernel's echo of
 * what it committed (same call) holds the gateway rule and the drop policy.
 */
export function loadGuestRuleset(netns: string, gateway: string, proxyPort: number): void {
  const body = readFileSync(join(NETNS_DIR, 'guest.nft'), 'utf8');
  const table = nftApply(
    `define gateway = ${gateway}\ndefine proxy_port = ${proxyPort}\n${body}`,
    netns,
    true,
  );
  if (!table.includes(`ip daddr ${gateway}`) || !table.includes('policy drop')) {
    throw new AirlockError('AIRLOCK_ERR_NFT_VERIFY', `guest nftables rules not in place in ${netns}`);
  }
}

/**
 * Packets the guest's own ruleset refused so far (the counters on its reject rules in
 * netns/guest.nft); null when the namespace or table cannot be read.
 */
export function guestBlockedPackets(netns: string): number | null {
  const out = nftQuery(['-j', 'list', 'chain', 'inet', 'airlock_guest', 'output'], netns);
  if (out === null) return null;
  try {
    const { nftables } = JSON.parse(out) as {
      nftables: { rule?: { expr?: { counter?: { packets: number } }[] } }[];
    };
    let packets = 0;
    for (const item of nftables) {
      for (const expr of item.rule?.expr ?? []) packets += expr.counter?.packets ?? 0;
    }
    return packets;
  } catch {
    return null;
  }
}
