import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AirlockError } from '../src/errors.js';
import { parsePool } from '../src/net/address-pool.js';

test('the default pool holds 16384 /30s, gateway .1 and guest .2 of each', () => {
  const pool = parsePool('10.209.0.0/16');
  assert.equal(pool.slots, 16384);
  assert.deepEqual(pool.addressesOf(0), { gateway: '10.209.0.1', guest: '10.209.0.2' });
  assert.deepEqual(pool.addressesOf(1), { gateway: '10.209.0.5', guest: '10.209.0.6' });
  assert.deepEqual(pool.addressesOf(16383), { gateway: '10.209.255.253', guest: '10.209.255.254' });
  assert.throws(() => pool.addressesOf(16384), RangeError);
});

test('bad pools are refused with the value named', () => {
  for (const bad of [
    '10.209.0.0',
    '10.209.0.0/31',
    '10.209.0.1/16',
    '8.8.8.0/24',
    '172.32.0.0/16',
    'x/16',
    '10.0.0.0/7',
  ]) {
    assert.throws(
      () => parsePool(bad),
      (e: unknown) =>
        e instanceof AirlockError && e.code === 'AIRLOCK_ERR_POOL_INVALID' && e.message.includes(bad),
      bad,
    );
  }
  assert.equal(parsePool('192.168.4.0/30').slots, 1);
  assert.equal(parsePool('172.16.0.0/12').slots, 2 ** 18);
});

test('every address of a /30 maps to its slot; addresses outside the pool to none', () => {
  const pool = parsePool('10.209.0.0/16');
  for (const a of ['10.209.0.4', '10.209.0.5', '10.209.0.6', '10.209.0.7'])
    assert.equal(pool.slotOf(a), 1, a);
  assert.equal(pool.slotOf('10.209.255.255'), 16383);
  for (const a of ['10.208.255.255', '10.210.0.0', '192.168.0.1', 'not-an-address']) {
    assert.equal(pool.slotOf(a), null, a);
  }
});
