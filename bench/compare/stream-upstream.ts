/**
 * The streaming TLS upstream of `npm run bench`, in its own process (so the engine's RSS is
 * the engine's alone): server-sent events at a fixed interval, each stamped with its send
 * time; a download of N bytes; an upload it counts. Like the nginx upstream it answers only
 * requests that carry the real key. Reads its settings as one JSON line on stdin, prints
 * `{"port":N}` once listening, exits when stdin closes.
 *
 * - `GET /v1/sse?n=N&interval=MS`: event i is due `i × MS` after the response starts; its
 *   data is `{"i":i,"sentMs":<when it was written, ms after the response started>}`
 * - `GET /v1/bytes?n=N`: N bytes of `application/octet-stream`
 * - `POST /v1/upload`: reads the body, answers `{"bytes":<its length>}`
 */
import { once } from 'node:events';
import { createServer } from 'node:https';
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';

export interface StreamUpstreamSettings {
  cert: string;
  key: string;
  /** the header the upstream requires, and its real value */
  header: string;
  secret: string;
}

const CHUNK = Buffer.alloc(64 * 1024, 'x');

function sse(res: ServerResponse, n: number, intervalMs: number): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const start = performance.now();
  let i = 0;
  let timer: NodeJS.Timeout | undefined;
  const next = () => {
    res.write(`data: {"i":${i},"sentMs":${(performance.now() - start).toFixed(3)}}\n\n`);
    i += 1;
    if (i >= n) {
      res.end();
      return;
    }
    // due times are absolute, so one late timer does not push every later event back
    timer = setTimeout(next, Math.max(0, start + i * intervalMs - performance.now()));
  };
  res.on('close', () => clearTimeout(timer));
  next();
}

function bytes(res: ServerResponse, n: number): void {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(n) });
  let left = n;
  const pump = () => {
    while (left > 0) {
      const piece = left >= CHUNK.length ? CHUNK : CHUNK.subarray(0, left);
      left -= piece.length;
      if (!res.write(piece)) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  pump();
}

const lines = createInterface({ input: process.stdin });
const [line] = (await once(lines, 'line')) as [string];
const s = JSON.parse(line) as StreamUpstreamSettings;
const server = createServer({ cert: s.cert, key: s.key }, (req, res) => {
  const url = new URL(req.url ?? '/', 'https://upstream');
  const n = Number(url.searchParams.get('n') ?? 0);
  if (req.headers[s.header.toLowerCase()] !== s.secret) {
    res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"wrong key"}');
  } else if (req.method === 'GET' && url.pathname === '/v1/sse') {
    sse(res, Math.max(1, n), Number(url.searchParams.get('interval') ?? 20));
  } else if (req.method === 'GET' && url.pathname === '/v1/bytes') {
    bytes(res, n);
  } else if (req.method === 'POST' && url.pathname === '/v1/upload') {
    let received = 0;
    req.on('data', (b: Buffer) => (received += b.length));
    req.on('end', () =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(`{"bytes":${received}}`),
    );
    return;
  } else {
    res.writeHead(404).end();
  }
  req.resume();
});
server.keepAliveTimeout = 60_000;
// a backlog for the 2,000 streams opened at once
server.listen(0, '127.0.0.1', 4096, () => {
  console.log(JSON.stringify({ port: (server.address() as AddressInfo).port }));
});
lines.on('close', () => {
  server.closeAllConnections();
  server.close();
});
