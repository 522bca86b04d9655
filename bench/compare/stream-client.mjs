// The streaming client of `npm run bench`, in plain JS so bare node runs it from stdin, the
// same program on the host (direct) and inside a sandbox (through airlock's reverse route):
// `node --input-type=module - '<options JSON>'`. Every time it reports is this process's
// clock, in ms after the measured request started. Prints one JSON line.
//
// options: base (URL of the upstream or the route; or baseEnv: the variable holding it),
// header and key (or keyEnv), host and caFile (direct over TLS: Host, SNI and the trust),
// mode and its settings:
// - sse {n, intervalMs, warm}: one stream; warm first opens the connection with a 1-event
//   stream on the same keep-alive agent → {ttfbMs, events: [{i, sentMs, atMs}]}
// - download {bytes} / upload {bytes} → {bytes, ms}
// - many {streams, holdMs}: that many streams at once (events 1 s apart); prints
//   `READY <opened>` when each has its first event, holds them holdMs → {opened, failed}
import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';

const o = JSON.parse(process.argv[2]);
const base = new URL(o.base ?? process.env[o.baseEnv]);
const key = o.key ?? process.env[o.keyEnv];
const tls = base.protocol === 'https:';
const lib = tls ? https : http;
const agent = new lib.Agent({
  keepAlive: true,
  maxSockets: Infinity,
  ...(tls ? { ca: readFileSync(o.caFile), servername: o.host } : {}),
});
const prefix = base.pathname.replace(/\/$/, '');

function request(method, path, headers = {}) {
  return lib.request({
    method,
    agent,
    host: base.hostname,
    port: base.port,
    path: `${prefix}${path}`,
    headers: { [o.header]: key, ...(o.host ? { host: o.host } : {}), ...headers },
  });
}

function fail(res) {
  throw new Error(`HTTP ${res.statusCode} from ${base.origin}`);
}

/** One SSE stream: when its first byte and each event arrived, after `t0`. */
function stream(n, intervalMs, t0 = performance.now()) {
  return new Promise((resolve, reject) => {
    const req = request('GET', `/v1/sse?n=${n}&interval=${intervalMs}`);
    req.on('error', reject);
    req.on('response', (res) => {
      if (res.statusCode !== 200) fail(res);
      let ttfbMs;
      let buffered = '';
      const events = [];
      res.setEncoding('utf8');
      res.on('data', (text) => {
        const atMs = performance.now() - t0;
        ttfbMs ??= atMs;
        buffered += text;
        let end;
        while ((end = buffered.indexOf('\n\n')) >= 0) {
          const { i, sentMs } = JSON.parse(buffered.slice(0, end).replace(/^data: /, ''));
          events.push({ i, sentMs, atMs });
          buffered = buffered.slice(end + 2);
        }
      });
      res.on('end', () => resolve({ ttfbMs, events }));
      res.on('error', reject);
    });
    req.end();
  });
}

async function download(bytes) {
  const t0 = performance.now();
  const received = await new Promise((resolve, reject) => {
    const req = request('GET', `/v1/bytes?n=${bytes}`);
    req.on('error', reject);
    req.on('response', (res) => {
      if (res.statusCode !== 200) fail(res);
      let n = 0;
      res.on('data', (b) => (n += b.length));
      res.on('end', () => resolve(n));
      res.on('error', reject);
    });
    req.end();
  });
  return { bytes: received, ms: performance.now() - t0 };
}

async function upload(bytes) {
  const chunk = Buffer.alloc(64 * 1024, 'y');
  const t0 = performance.now();
  const answer = await new Promise((resolve, reject) => {
    const req = request('POST', '/v1/upload', {
      'content-type': 'application/octet-stream',
      'content-length': String(bytes),
    });
    req.on('error', reject);
    req.on('response', (res) => {
      if (res.statusCode !== 200) fail(res);
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (t) => (body += t));
      res.on('end', () => resolve(JSON.parse(body)));
    });
    let left = bytes;
    const pump = () => {
      while (left > 0) {
        const piece = left >= chunk.length ? chunk : chunk.subarray(0, left);
        left -= piece.length;
        if (!req.write(piece)) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
  return { bytes: answer.bytes, ms: performance.now() - t0 };
}

/** `count` streams held open at once, opened 100 at a time (a burst of 2,000 SYNs overflows backlogs). */
async function many(count, holdMs) {
  const open = [];
  let failed = 0;
  for (let started = 0; started < count; started += 100) {
    const batch = Array.from(
      { length: Math.min(100, count - started) },
      () =>
        new Promise((resolve) => {
          const req = request('GET', '/v1/sse?n=1000000&interval=1000');
          req.on('error', () => resolve(false));
          req.on('response', (res) => {
            if (res.statusCode !== 200) return resolve(false);
            res.once('data', () => resolve(true));
            res.on('error', () => undefined);
          });
          req.end();
          open.push(req);
        }),
    );
    for (const ok of await Promise.all(batch)) if (!ok) failed += 1;
  }
  console.log(`READY ${count - failed}`);
  await new Promise((resolve) => setTimeout(resolve, holdMs));
  for (const req of open) req.destroy();
  return { opened: count - failed, failed };
}

let result;
if (o.mode === 'sse') {
  if (o.warm) await stream(1, 0);
  result = await stream(o.n, o.intervalMs);
} else if (o.mode === 'download') result = await download(o.bytes);
else if (o.mode === 'upload') result = await upload(o.bytes);
else if (o.mode === 'many') result = await many(o.streams, o.holdMs);
else throw new Error(`unknown mode ${o.mode}`);
console.log(JSON.stringify(result));
agent.destroy();
