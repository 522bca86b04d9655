import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isAirlockError } from '../src/errors.js';
import {
  classifyAddress,
  evaluate,
  isReachableClass,
  normalizeHost,
  parseIPv4Loose,
} from '../src/policy/index.js';
import { createEgressGuard } from '../src/proxy/forward/egress-guard.js';
import { policyWith } from './helpers/policy.js';

const classOf = (literal: string) => {
  const c = classifyAddress(literal);
  assert.notEqual(c.category, 'invalid', `${literal} should parse`);
  return { ...c, forbidden: !isReachableClass(c, false) };
};

test('forbidden addresses, in every spelling', () => {
  const cases: [string, string][] = [
    ['169.254.169.254', 'metadata'],
    ['[::ffff:a9fe:a9fe]', 'metadata'],
    ['::ffff:169.254.169.254', 'metadata'],
    ['[64:ff9b::a9fe:a9fe]', 'metadata'],
    ['64:ff9b::169.254.169.254', 'metadata'],
    ['2002:a9fe:a9fe::1', 'metadata'],
    ['2852039166', 'metadata'],
    ['0xa9fea9fe', 'metadata'],
    ['0251.0376.0251.0376', 'metadata'],
    ['0xa9.0xfe.0xa9.0xfe', 'metadata'],
    ['169.254.43518', 'metadata'],
    ['100.64.0.1', 'cgnat'],
    ['100.127.255.255', 'cgnat'],
    ['127.0.0.1', 'loopback'],
    ['127.1', 'loopback'],
    ['2130706433', 'loopback'],
    ['0x7f000001', 'loopback'],
    ['017700000001', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::', 'unspecified'],
    ['0.0.0.0', 'this-network'],
    ['0', 'this-network'],
    ['10.0.0.1', 'private'],
    ['10.209.0.1', 'private'],
    ['172.16.5.4', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.1.1', 'link-local'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['198.18.0.1', 'benchmark'],
    ['192.0.0.170', 'ietf-reserved'],
    ['fc00::1', 'unique-local'],
    ['fd00:ec2::254', 'unique-local'],
    ['fe80::1', 'link-local'],
    ['febf::1', 'link-local'],
    ['fec0::1', 'site-local'],
    ['ff02::1', 'multicast'],
    ['2001::1', 'teredo'],
    ['100::1', 'discard'],
    ['64:ff9b:1::1', 'nat64-local'],
  ];
  for (const [literal, category] of cases) {
    const c = classOf(literal);
    assert.equal(c.category, category, literal);
    assert.equal(c.forbidden, true, literal);
  }
  assert.equal(classOf('::127.0.0.1').forbidden, true);
  assert.equal(classOf('::8.8.8.8').forbidden, true); // deprecated IPv4-compatible form
});

test('public addresses are reachable; the test ranges (the fake internet) only when the config allows them', () => {
  for (const literal of [
    '8.8.8.8',
    '1.1.1.1',
    '172.32.0.1',
    '100.128.0.1',
    '2606:4700::1111',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
  ]) {
    assert.equal(classOf(literal).forbidden, false, literal);
  }
  for (const literal of [
    '203.0.113.7',
    '198.51.100.1',
    '192.0.2.1',
    '198.18.0.1',
    '2001:db8::5',
    '::ffff:203.0.113.7',
  ]) {
    const c = classifyAddress(literal);
    assert.equal(isReachableClass(c, false), false, `${literal} is shut by default`);
    assert.equal(isReachableClass(c, true), true, `${literal} opens with egress.allowTestRanges`);
  }
});

test('odd IPv4 forms are parsed as addresses, never names', () => {
  assert.deepEqual(parseIPv4Loose('2852039166'), { version: 4, value: 0xa9fea9fe });
  assert.deepEqual(parseIPv4Loose('0xa9fea9fe'), { version: 4, value: 0xa9fea9fe });
  assert.deepEqual(parseIPv4Loose('0251.0376.0251.0376'), { version: 4, value: 0xa9fea9fe });
  assert.deepEqual(parseIPv4Loose('127.1'), { version: 4, value: 0x7f000001 });
  assert.deepEqual(parseIPv4Loose('127.0.1'), { version: 4, value: 0x7f000001 });
  for (const bad of ['256.1.1.1', '1.2.3.4.5', '4294967296', '08.1.1.1', '0x1g.1', '1.2.3.256'])
    assert.equal(parseIPv4Loose(bad), null, bad);
  for (const name of ['2852039166', '0xa9fea9fe', '169.254.169.254.', '0251.0376.0251.0376']) {
    const h = normalizeHost(name);
    assert.ok(h.ok && h.ip, name);
    assert.equal(h.host, '169.254.169.254');
  }
});

test('the forward proxy refuses forbidden literals even under open; resolved addresses too unless pinned', async () => {
  const open = policyWith({ profiles: ['open'] });
  const guard = createEgressGuard({
    resolve: { 'metadata.example.com': '169.254.169.254' },
    connectTimeout: 1000,
    localAddresses: () => [],
    lookup: (name) => Promise.resolve(name === 'api.example.test' ? ['203.0.113.10'] : ['169.254.169.254']),
  });
  const refused = async (host: string) => {
    await assert.rejects(guard.choose(host), (err) => {
      assert.ok(isAirlockError(err));
      assert.equal(err.code, 'AIRLOCK_ERR_FORBIDDEN_ADDRESS', host);
      return true;
    });
  };
  for (const literal of [
    '169.254.169.254',
    '[::ffff:a9fe:a9fe]',
    '[64:ff9b::a9fe:a9fe]',
    '100.64.0.1',
    '127.0.0.1',
    '10.209.0.1',
    '2852039166',
    '0xa9fea9fe',
  ]) {
    const d = evaluate(open, { kind: 'forward', method: 'CONNECT', target: `${literal}:443` });
    assert.ok(d.allow, `${literal}: open allows any host; the address check refuses it`);
    await refused(d.target.host);
  }
  await refused('metadata.other.test');
  await assert.rejects(guard.choose('metadata.other.test'), /169\.254\.169\.254.*metadata/);
  assert.deepEqual(await guard.choose('metadata.example.com'), { ip: '169.254.169.254', pinned: true });
  await refused('api.example.test'); // a documentation address, and the test ranges are shut
});
