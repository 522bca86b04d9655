import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AirlockError } from '../src/errors.js';
import { formatSize, parseCpus, parsePids, parseSize, resolveLimits } from '../src/config/limits.js';
import { parseConfig } from '../src/config/load-config.js';

const MiB = 2 ** 20;

test('sizes: bytes or k/m/g/t in powers of 1024, as Docker reads them', () => {
  assert.equal(parseSize('128m', '--memory'), 128 * MiB);
  assert.equal(parseSize('128M', '--memory'), 128 * MiB);
  assert.equal(parseSize('1.5g', '--memory'), 1.5 * 1024 * MiB);
  assert.equal(parseSize('2GiB', '--memory'), 2 * 1024 * MiB);
  assert.equal(parseSize('20000000', '--memory'), 20_000_000);
  for (const bad of ['', 'lots', '-1g', '1x', '1e9', '8m', '1k']) {
    assert.throws(
      () => parseSize(bad, '--memory'),
      (e: unknown) =>
        e instanceof AirlockError &&
        e.code === 'AIRLOCK_ERR_USAGE' &&
        e.message.startsWith(`--memory ${bad}:`),
      bad,
    );
  }
  assert.equal(formatSize(96 * MiB), '96 MiB');
  assert.equal(formatSize(1.5 * 1024 * MiB), '1.5 GiB');
});

test('pids and cpus: whole numbers of processes, positive numbers of CPUs', () => {
  assert.equal(parsePids('64', '--pids'), 64);
  assert.equal(parseCpus('0.5', '--cpus'), 0.5);
  for (const bad of ['7', 'x', '1.5', '-3']) assert.throws(() => parsePids(bad, '--pids'), /--pids/);
  for (const bad of ['0', '-1', 'two', '5000']) assert.throws(() => parseCpus(bad, '--cpus'), /--cpus/);
});

test('limits: defaults, then the config file, then flags', () => {
  const { config } = parseConfig({ limits: { memory: '2g', cpus: 1.5 } }, 'test');
  assert.equal(config.limits.pids, 1024);
  assert.equal(config.limits.graceSeconds, 10);
  assert.deepEqual(resolveLimits(config.limits, {}), { memoryBytes: 2048 * MiB, pids: 1024, cpus: 1.5 });
  assert.deepEqual(resolveLimits(config.limits, { memory: '512m', pids: '100', cpus: '0.5' }), {
    memoryBytes: 512 * MiB,
    pids: 100,
    cpus: 0.5,
  });
  const none = resolveLimits(parseConfig({}, 'test').config.limits, {});
  assert.equal(none.cpus, null);
  assert.ok(none.memoryBytes > 0 && none.memoryBytes % MiB === 0);
  assert.throws(
    () => parseConfig({ limits: { memory: 'big', pids: 2 } }, 'test.json'),
    (e: unknown) =>
      e instanceof AirlockError &&
      /limits\.memory: must be a size like 512m/.test(e.message) &&
      /limits\.pids: /.test(e.message),
  );
});
