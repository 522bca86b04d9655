import assert from 'node:assert/strict';
import { test } from 'node:test';
import { listIpv6Addresses } from '../src/net/ip.js';
import { createFakeInternet } from './helpers/fake-internet.js';
import { hostListener, needsRoot, probe, testSandbox } from './helpers/sandbox-bench.js';

test('a guest reaches nothing on the fake internet: TCP v4/v6, UDP, DNS', { skip: needsRoot }, async (t) => {
  const inet = await createFakeInternet();
  t.after(() => inet.close());
  const sb = await testSandbox(t);
  await hostListener(t, sb.gateway, sb.proxyPort);

  // the fake internet, plus the host over IPv6: link-local on the guest's link, the
  // all-nodes group, and every IPv6 address the host has
  const hostV6 = (await listIpv6Addresses()).filter((a) => a !== '::1');
  assert.ok(hostV6.includes(inet.hostV6), 'control: the host has IPv6 addresses to aim at');
  const tcpTargets = [
    ...[...inet.v4, ...inet.v6].flatMap((host) => inet.tcpPorts.map((port) => ({ tcp: host, port }))),
    ...['fe80::1%eth0', 'ff02::1%eth0', ...hostV6].map((host) => ({ tcp: host, port: sb.proxyPort })),
  ];
  const udpTargets = [...inet.v4, ...inet.v6].flatMap((host) =>
    inet.udpPorts.map((port) => ({ udp: host, port })),
  );
  const dnsTargets = ['api.openai.com', 'example.com', 'exfil.canary-ab12cd.test', 'localhost.'].map(
    (dns) => ({ dns }),
  );
  const [control, ...results] = await probe(t, sb, [
    { tcp: sb.gateway, port: sb.proxyPort },
    ...tcpTargets,
    ...udpTargets,
    ...dnsTargets,
  ]);

  assert.deepEqual(
    control,
    { ok: true, error: null },
    'positive control: the gateway proxy port is reachable',
  );
  const tcp = results.slice(0, tcpTargets.length);
  const udp = results.slice(tcpTargets.length, tcpTargets.length + udpTargets.length);
  const dns = results.slice(tcpTargets.length + udpTargets.length);
  for (const [i, r] of tcp.entries()) {
    assert.equal(r.ok, false, `TCP ${JSON.stringify(tcpTargets[i])} must fail`);
    assert.notEqual(r.error, 'ETIMEDOUT', `TCP ${JSON.stringify(tcpTargets[i])} must fail fast, not hang`);
  }
  for (const [i, r] of udp.entries())
    assert.equal(r.ok, false, `UDP ${JSON.stringify(udpTargets[i])} must not be sent`);
  for (const [i, r] of dns.entries()) {
    assert.equal(r.ok, false, `DNS lookup ${JSON.stringify(dnsTargets[i])} must fail`);
    assert.ok((r.ms ?? 0) < 1500, `DNS lookup must fail fast (took ${r.ms} ms)`);
  }
  const hits = inet.hits();
  assert.equal(hits.listener, 0, `fake internet listeners were hit: ${JSON.stringify(hits.detail)}`);
  assert.equal(hits.packets, 0, 'packets reached the fake internet');
});

test('a guest can open no raw, packet or ICMP socket', { skip: needsRoot }, async (t) => {
  const sb = await testSandbox(t);
  const { guestFixture } = await import('./helpers/sandbox-bench.js');
  const script = guestFixture(t, 'raw-socket-probe.py');
  const r = await sb.exec(['python3', script]);
  assert.equal(r.status, 0, r.stderr);
  const result = JSON.parse(r.stdout) as Record<string, string | null>;
  assert.equal(result.raw, 'EPERM');
  assert.equal(result.raw_tcp, 'EPERM');
  assert.equal(result.packet, 'EPERM');
  assert.ok(
    result.icmp_dgram === 'EACCES' || result.icmp_dgram === 'EPERM',
    `icmp dgram: ${result.icmp_dgram}`,
  );
  // positive control: the same probe as root on the host opens them
  const { runCommand } = await import('../src/net/run.js');
  const host = await runCommand('python3', [script]);
  assert.equal(
    (JSON.parse(host.stdout) as Record<string, string | null>).raw,
    null,
    'control: root can open a raw socket',
  );
});
