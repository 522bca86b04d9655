import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AirlockError } from '../errors.js';
import { nftApply, nftQuery } from '../net/nft.js';

/** the folder of .nft rulesets, two levels up from src/sandbox or dist/sandbox */
export const NETNS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'netns');
const RULESET_MARK = 'comment "airlock ruleset v1"';

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

/** Loads netns/airlock.nft (idempotent and atomic; live sandboxes' elements survive). */
export async function loadHostRuleset(): Promise<void> {
  await nftApply(readFileSync(join(NETNS_DIR, 'airlock.nft'), 'utf8'));
}

export async function allowSandbox(e: FirewallEntry): Promise<void> {
  await nftApply(`add element inet airlock allowed ${element(e)}\n`);
}

/** Idempotent: an element that is already gone counts as removed. */
export async function disallowSandbox(e: FirewallEntry): Promise<void> {
  await nftQuery(['delete', 'element', 'inet', 'airlock', 'allowed', element(e)]);
}

/** The elements of the `allowed` set, for finding leftovers of crashed runs. */
export async function allowedEntries(): Promise<FirewallEntry[]> {
  const out = await nftQuery(['-j', 'list', 'set', 'inet', 'airlock', 'allowed']);
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

/** Fails closed unless the host table's rules and this sandbox's element are in place. */
export async function verifyHostRules(e: FirewallEntry): Promise<void> {
  const table = await nftQuery(['-t', 'list', 'table', 'inet', 'airlock']);
  const checks: [string, boolean][] = [
    ['table inet airlock (v1)', table?.includes(RULESET_MARK) ?? false],
    ['input hook jumping to from_sandbox', table?.includes('iifname "al-*" jump from_sandbox') ?? false],
    ['the @allowed accept rule', table?.includes('@allowed accept') ?? false],
    ['the catch-all reject', table?.includes('reject with icmpx admin-prohibited') ?? false],
    ['the forward drop', table?.includes('oifname "al-*" drop') ?? false],
  ];
  const element_ = await nftQuery(['get', 'element', 'inet', 'airlock', 'allowed', element(e)]);
  checks.push([`element for ${e.hostIf}`, element_ !== null]);
  const missing = checks.filter(([, ok]) => !ok).map(([what]) => what);
  if (missing.length > 0) {
    throw new AirlockError(
      'AIRLOCK_ERR_NFT_VERIFY',
      `host nftables rules not in place: ${missing.join(', ')}`,
    );
  }
}

/** Loads netns/guest.nft inside the sandbox's namespace. */
export async function loadGuestRuleset(netns: string, gateway: string, proxyPort: number): Promise<void> {
  const body = readFileSync(join(NETNS_DIR, 'guest.nft'), 'utf8');
  await nftApply(`define gateway = ${gateway}\ndefine proxy_port = ${proxyPort}\n${body}`, netns);
}

export async function verifyGuestRules(netns: string, gateway: string): Promise<void> {
  const table = await nftQuery(['-t', 'list', 'table', 'inet', 'airlock_guest'], netns);
  if (table === null || !table.includes(`ip daddr ${gateway}`) || !table.includes('policy drop')) {
    throw new AirlockError('AIRLOCK_ERR_NFT_VERIFY', `guest nftables rules not in place in ${netns}`);
  }
}
