import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { isAirlockError } from '../src/errors.js';
import { withHostLock } from '../src/store/host-lock.js';
import { deferred } from './helpers/deferred.js';
import { startWorker } from './helpers/line-worker.js';
import { tempDir } from './helpers/temp-dir.js';

const HOST_LOCK = fileURLToPath(new URL('../src/store/host-lock.ts', import.meta.url));

const timedOut = (path: string) => (e: unknown) =>
  isAirlockError(e) && e.code === 'AIRLOCK_ERR_HOST_LOCK' && e.message.includes(path);

test('a second taker waits, without blocking the event loop, until the holder lets go', async (t) => {
  const path = join(tempDir(t).dir, 'host.lock');
  const order: string[] = [];
  const held = deferred();
  const release = deferred();
  const first = withHostLock(
    async () => {
      order.push('first in');
      held.resolve();
      await release.promise;
      order.push('first out');
    },
    { path },
  );
  await held.promise;
  const second = withHostLock(() => order.push('second in'), { path });
  // The holder lets go from a timer of this same process: a taker that waited inside SQLite's
  // busy handler would hold the thread, and the release would never come.
  await sleep(100);
  release.resolve();
  await Promise.all([first, second]);
  assert.deepEqual(order, ['first in', 'first out', 'second in']);
});

test('a taker gives up after its timeout with AIRLOCK_ERR_HOST_LOCK naming the file', async (t) => {
  const path = join(tempDir(t).dir, 'host.lock');
  const held = deferred();
  const release = deferred();
  const holder = withHostLock(
    async () => {
      held.resolve();
      await release.promise;
    },
    { path },
  );
  await held.promise;
  let ran = false;
  await assert.rejects(
    withHostLock(() => (ran = true), { path, timeoutMs: 150 }),
    timedOut(path),
  );
  assert.equal(ran, false, 'the section never ran without the lock');
  release.resolve();
  await holder;
  assert.equal(await withHostLock(() => 'free', { path, timeoutMs: 150 }), 'free');
});

test('a section that throws releases the lock', async (t) => {
  const path = join(tempDir(t).dir, 'host.lock');
  await assert.rejects(
    withHostLock(
      () => {
        throw new Error('boom');
      },
      { path },
    ),
    /boom/,
  );
  assert.equal(await withHostLock(() => 'free', { path, timeoutMs: 150 }), 'free');
});

test('another process holds the lock; once it is killed with SIGKILL the lock is free', async (t) => {
  const path = join(tempDir(t).dir, 'host.lock');
  const holder = startWorker(`import { withHostLock } from ${JSON.stringify(HOST_LOCK)};
    await withHostLock(async () => {
      console.log('held');
      await new Promise(() => setInterval(() => {}, 1000));
    }, { path: ${JSON.stringify(path)} });`);
  t.after(() => holder.stop());
  assert.equal(await holder.next(), 'held');
  await assert.rejects(
    withHostLock(() => 'taken', { path, timeoutMs: 150 }),
    timedOut(path),
  );
  await holder.stop();
  assert.equal(await withHostLock(() => 'free', { path, timeoutMs: 5000 }), 'free');
});
