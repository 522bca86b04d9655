import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { createFakeUpstream, respond } from './helpers/fake-upstream.js';
import { builtin, makeCredentials, onPort, resolveAll } from './helpers/proxy-bench.js';
import { createTestCa } from './helpers/test-ca.js';

const SIZE = 100 * 1024 * 1024;
/** live memory: measured +7..16 MB for 25..400 MB uploads (not growing with size); buffering would cost >= 100 MB */
const MAX_LIVE_GROWTH = 32 * 1024 * 1024;
/** RSS also holds garbage between collections and the allocator's high-water mark */
const MAX_RSS_GROWTH = 60 * 1024 * 1024;
const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;

function generated(total: number): Readable {
  const chunk = Buffer.alloc(64 * 1024, 'x');
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= total) return void this.push(null);
      const piece = chunk.subarray(0, Math.min(chunk.length, total - sent));
      sent += piece.length;
      this.push(piece);
    },
  });
}

test('100 MB up and 100 MB down pass through the proxy process in bounded memory', async (t) => {
  const ca = createTestCa(t);
  const service = builtin('openai');
  const upstream = await createFakeUpstream({ ca, hostnames: service.hosts, t });
  const services = [onPort(service, upstream.port)];
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', fileURLToPath(new URL('./fixtures/proxy-child.ts', import.meta.url))], {
    stdio: ['pipe', 'pipe', 'inherit'],
  }); // prettier-ignore
  t.after(() => child.kill());
  const out = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const ask = async (command?: string) => {
    if (command) child.stdin.write(`${command}\n`);
    return JSON.parse(String((await out.next()).value)) as Record<string, number>;
  };
  child.stdin.write(
    `${JSON.stringify({ sandboxId: 'big', services, credentials: makeCredentials(services), resolve: resolveAll(services), upstreamCa: [ca.caPem] })}\n`,
  );
  const base = `http://127.0.0.1:${(await ask()).port}/proxy/openai`;
  // warm up with a 16 MB upload: pools, TLS, JIT and the allocator's first high-water mark
  // (RSS +~50 MB on the first big upload whatever its size: 50/200/400 MB measured) are not per-byte growth
  const warm = await request(`${base}/v1/warmup`, { method: 'POST', body: generated(16 * 1024 * 1024) });
  await warm.body.text();

  await t.test('upload', async () => {
    child.stdin.write('reset\n');
    const began = Date.now();
    const res = await request(`${base}/v1/files`, {
      method: 'POST',
      body: generated(SIZE),
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(SIZE) },
    });
    assert.equal(res.statusCode, 200);
    await res.body.text();
    const { rss = Infinity, live = Infinity } = await ask('peak');
    t.diagnostic(
      `upload: proxy RSS +${mb(rss)}, live +${mb(live)}, ${(SIZE / 1048576 / ((Date.now() - began) / 1000)).toFixed(0)} MB/s`,
    );
    assert.equal(upstream.requests.at(-1)?.bodyLength, SIZE);
    assert.ok(live < MAX_LIVE_GROWTH, `proxy live memory grew by ${mb(live)}`);
    assert.ok(rss < MAX_RSS_GROWTH, `proxy RSS grew by ${mb(rss)}`);
  });

  await t.test('download', async () => {
    upstream.setHandler(respond.bytes(SIZE));
    child.stdin.write('reset\n');
    const began = Date.now();
    const res = await request(`${base}/v1/files/f/content`);
    assert.equal(res.statusCode, 200);
    let received = 0;
    for await (const chunk of res.body) received += (chunk as Buffer).length;
    const { rss = Infinity, live = Infinity } = await ask('peak');
    t.diagnostic(
      `download: proxy RSS +${mb(rss)}, live +${mb(live)}, ${(SIZE / 1048576 / ((Date.now() - began) / 1000)).toFixed(0)} MB/s`,
    );
    assert.equal(received, SIZE);
    assert.ok(live < MAX_LIVE_GROWTH, `proxy live memory grew by ${mb(live)}`);
    assert.ok(rss < MAX_RSS_GROWTH, `proxy RSS grew by ${mb(rss)}`);
  });
});
