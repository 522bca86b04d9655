import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { ip } from '../src/net/ip.js';
import { nftApply, nftQuery } from '../src/net/nft.js';
import { NETNS_DIR } from '../src/sandbox/firewall.js';
import type { Sandbox } from '../src/sandbox/sandbox.js';
import { attackEveryPort, witnessHostTable } from './helpers/layer-witness.js';
import { needsRoot, testSandbox } from './helpers/sandbox-bench.js';

/** Privileged tampering inside the guest's namespace: its own ruleset gone, a default route added. */
async function withoutGuestRuleset(sb: Sandbox): Promise<void> {
  nftApply('delete table inet airlock_guest\n', sb.netns);
  await ip(['-n', sb.netns, 'route', 'add', 'default', 'via', sb.gateway]);
}

/** The host table alone must let through exactly one thing: TCP to the sandbox's own gateway proxy port. */
async function hostTableAlone(t: TestContext, sb: Sandbox) {
  const witnessed = witnessHostTable(t, sb.hostInterface);
  await withoutGuestRuleset(sb);
  return attackEveryPort(t, sb, witnessed);
}

const onlyTheProxy = (sb: Sandbox) => ({ tcp: [`${sb.gateway}:${sb.proxyPort}`], udp: [], other: 0 });

test(
  'the host table alone: every port of every host address refused but the proxy',
  { skip: needsRoot },
  async (t) => {
    const sb = await testSandbox(t);
    assert.deepEqual(await hostTableAlone(t, sb), onlyTheProxy(sb));
  },
);

test(
  'the guest ruleset alone: with the host table bypassed it holds by itself',
  { skip: needsRoot },
  async (t) => {
    const sb = await testSandbox(t);
    const witnessed = witnessHostTable(t, sb.hostInterface);
    // the host table's sandbox chain bypassed for this interface only; a route out added
    const added = nftQuery([
      '-e',
      '-a',
      'insert',
      'rule',
      'inet',
      'airlock',
      'from_sandbox',
      'iifname',
      sb.hostInterface,
      'accept',
    ]);
    const handle = /# handle (\d+)/.exec(added ?? '')?.[1];
    assert.ok(handle, `control: the bypass rule is in place (${added})`);
    t.after(() => nftApply(`delete rule inet airlock from_sandbox handle ${handle}\n`));
    await ip(['-n', sb.netns, 'route', 'add', 'default', 'via', sb.gateway]);
    assert.deepEqual(await attackEveryPort(t, sb, witnessed), onlyTheProxy(sb));
  },
);

test('mutation check: a host ruleset with one extra open port is caught', { skip: needsRoot }, async (t) => {
  const real = readFileSync(join(NETNS_DIR, 'airlock.nft'), 'utf8');
  const catchAll = '\t\tmeta l4proto tcp reject with tcp reset\n';
  assert.ok(real.includes(catchAll), 'control: the mutation point exists');
  const mutant = real.replace(catchAll, `\t\ttcp dport 18999 accept\n${catchAll}`);
  const sb = await testSandbox(t);
  // the mutant replaces the real chains for this test only (loading the real file restores them)
  nftApply(mutant);
  t.after(() => nftApply(real));
  const seen = await hostTableAlone(t, sb);
  assert.ok(
    seen.tcp.includes(`${sb.gateway}:18999`),
    `the suite missed the extra port: ${JSON.stringify(seen)}`,
  );
  assert.notDeepEqual(seen, onlyTheProxy(sb));
});
