import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  classifyAddress,
  evaluate,
  evaluateResolvedAddress,
  normalizeHost,
  parseIPv4Loose,
  parseIpLiteral,
} from '../src/policy/index.js';
import { policyWith } from './helpers/policy.js';

const classOf = (literal: string) => {
  const ip = parseIpLiteral(literal);
  assert.ok(ip, `${literal} should parse`);
  return classifyAddress(ip);
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

test('public and documentation addresses (the fake internet) are not forbidden', () => {
  for (const literal of [
    '8.8.8.8',
    '1.1.1.1',
    '172.32.0.1',
    '100.128.0.1',
    '203.0.113.7',
    '198.51.100.1',
    '192.0.2.1',
    '2001:db8::5',
    '2606:4700::1111',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
  ]) {
    assert.equal(classOf(literal).forbidden, false, literal);
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

test('the forward proxy refuses forbidden literals even under open; resolved addresses too unless pinned', () => {
  const open = policyWith({ profiles: ['open'] });
  for (const host of [
    '169.254.169.254',
    '[::ffff:a9fe:a9fe]',
    '[64:ff9b::a9fe:a9fe]',
    '100.64.0.1',
    '127.0.0.1',
    '10.209.0.1',
    '2852039166',
    '0xa9fea9fe',
  ]) {
    const d = evaluate(open, { kind: 'forward', host, port: 443, method: 'CONNECT' });
    assert.equal(d.allow, false, host);
    if (!d.allow) assert.equal(d.type, 'airlock_forbidden_address', host);
  }
  assert.equal(
    evaluate(open, { kind: 'forward', host: '203.0.113.7', port: 443, method: 'CONNECT' }).allow,
    true,
  );
  const meta = parseIpLiteral('169.254.169.254')!;
  const d = evaluateResolvedAddress('metadata.example.com', meta, false);
  assert.equal(d.allow, false);
  if (!d.allow) assert.match(d.message, /metadata/);
  assert.equal(evaluateResolvedAddress('metadata.example.com', meta, true).allow, true);
  assert.equal(evaluateResolvedAddress('api.openai.com', parseIpLiteral('203.0.113.10')!, false).allow, true);
});
