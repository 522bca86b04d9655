import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ip } from '../src/net/ip.js';
import { nftApply } from '../src/net/nft.js';
import { createFakeInternet } from './helpers/fake-internet.js';
import { hostListener, needsRoot, probe, testSandbox } from './helpers/sandbox-bench.js';

test('a spoofed source address cannot reach the proxy port', { skip: needsRoot }, async (t) => {
  const sb = await testSandbox(t);
  await hostListener(t, sb.gateway, sb.proxyPort);
  const [control] = await probe(t, sb, [{ tcp: sb.gateway, port: sb.proxyPort }]);
  assert.equal(control!.ok, true, 'positive control from the real guest address');

  // An attacker with privileges inside the guest netns: a second address, used as source, with
  // the guest's own ruleset out of the way so only the host table stands between.
  const spoofed = '10.209.255.250';
  await ip(['-n', sb.netns, 'addr', 'add', `${spoofed}/32`, 'dev', 'eth0']);
  nftApply('delete table inet airlock_guest\n', sb.netns);
  const script = `const s=require('net').connect({host:'${sb.gateway}',port:${sb.proxyPort},localAddress:'${spoofed}',timeout:1500});
    s.on('connect',()=>{console.log('CONNECTED');process.exit(0)});s.on('error',e=>{console.log(e.code);process.exit(0)});
    s.on('timeout',()=>{console.log('TIMEOUT');process.exit(0)});`;
  const r = await sb.exec(['node', '-e', script]);
  assert.notEqual(r.stdout.trim(), 'CONNECTED', 'spoofed source must be refused');
  assert.match(r.stdout.trim(), /^(ECONNREFUSED|TIMEOUT|ECONNRESET)$/);
});

test(
  'with the guest ruleset gone and a default route added, the host table alone holds',
  { skip: needsRoot },
  async (t) => {
    const inet = await createFakeInternet();
    t.after(() => inet.close());
    const sb = await testSandbox(t);
    await hostListener(t, sb.gateway, sb.proxyPort);
    await hostListener(t, sb.gateway, 9091);
    await hostListener(t, inet.hostV4, 9091);
    // privileged tampering inside the guest namespace
    nftApply('delete table inet airlock_guest\n', sb.netns);
    await ip(['-n', sb.netns, 'route', 'add', 'default', 'via', sb.gateway]);

    const targets = [
      { tcp: sb.gateway, port: sb.proxyPort },
      { tcp: sb.gateway, port: 9091 },
      { tcp: inet.hostV4, port: 9091 },
      ...inet.tcpPorts.map((port) => ({ tcp: inet.v4[0]!, port })),
      ...inet.udpPorts.map((port) => ({ udp: inet.v4[0]!, port })),
    ];
    const [control, ...rest] = await probe(t, sb, targets);
    assert.equal(control!.ok, true, 'positive control');
    for (const [i, r] of rest.entries()) {
      const target = targets[i + 1]!;
      if ('tcp' in target) {
        assert.equal(r.ok, false, `${JSON.stringify(target)} must be refused`);
        // host addresses answer with a reset; packets that would need forwarding are dropped
        if (target.tcp !== inet.v4[0])
          assert.notEqual(r.error, 'ETIMEDOUT', `${JSON.stringify(target)} fast`);
      }
    }
    const hits = inet.hits();
    assert.equal(hits.listener, 0, JSON.stringify(hits.detail));
    assert.equal(hits.packets, 0);
  },
);
