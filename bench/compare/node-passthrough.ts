/**
 * The bare Node reference proxy of `npm run bench`: `node:http` in, the key header set,
 * `undici.stream` to the TLS upstream, nothing else (no policy, no audit, no scrubbing). The
 * lower bound of what a Node proxy costs. Reads its settings as one JSON line on stdin,
 * prints `{"port":N}` once listening, exits when stdin closes.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { Agent, stream } from 'undici';
import type { UpstreamTarget } from './native-servers.js';

const lines = createInterface({ input: process.stdin });
const [line] = (await once(lines, 'line')) as [string];
const up = JSON.parse(line) as UpstreamTarget & { ca: string };

const dispatcher = new Agent({ connect: { ca: up.ca, servername: up.host }, connections: 64 });
const origin = `https://127.0.0.1:${up.port}`;

const server = createServer((req, res) => {
  const headers = { ...req.headers, host: up.host, [up.header]: up.secret };
  stream(
    `${origin}${req.url ?? '/'}`,
    {
      method: req.method as 'GET',
      headers,
      body: req.method === 'GET' ? null : req,
      dispatcher,
      opaque: res,
    },
    ({ statusCode, headers: answer, opaque }) => {
      opaque.writeHead(statusCode, answer as Record<string, string>);
      return opaque;
    },
  ).catch(() => {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  console.log(JSON.stringify({ port: (server.address() as AddressInfo).port }));
});
lines.on('close', () => {
  server.closeAllConnections();
  server.close();
  void dispatcher.close();
});
