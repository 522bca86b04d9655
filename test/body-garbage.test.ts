import assert from 'node:assert/strict';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { test } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { createBodyGarbage } from '../src/proxy/core/body-garbage.js';

test('a collection is asked for once per step of body bytes, after the current callbacks', async () => {
  let collections = 0;
  const passed = createBodyGarbage(100, () => collections++);
  passed(60);
  await tick();
  assert.equal(collections, 0, 'less than a step: none');
  passed(60); // 120: one step
  assert.equal(collections, 0, 'not inside the callback that counted');
  await tick();
  assert.equal(collections, 1);
  passed(100);
  passed(100); // two steps before the collection ran: one collection
  await tick();
  assert.equal(collections, 2);
});

test("the default collector is V8's young-generation collection, and gc stays hidden", async () => {
  let observer: PerformanceObserver | undefined;
  const minor = new Promise<void>((resolve) => {
    observer = new PerformanceObserver((list) => {
      const kinds = list.getEntries().map((e) => (e as unknown as { detail: { kind: number } }).detail.kind);
      if (kinds.includes(constants.NODE_PERFORMANCE_GC_MINOR)) resolve();
    });
    observer.observe({ entryTypes: ['gc'] });
  });
  const alive = setInterval(() => {}, 1000); // gc entries do not keep the event loop alive
  try {
    createBodyGarbage(1)(1);
    await minor; // (none: the test runner's timeout fails the test)
    assert.equal((globalThis as { gc?: unknown }).gc, undefined);
  } finally {
    clearInterval(alive);
    observer?.disconnect();
  }
});
