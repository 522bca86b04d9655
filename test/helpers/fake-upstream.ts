import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TestCa } from './test-ca.js';

/** One request as the fake upstream saw it. */
export interface RecordedRequest {
  method: string;
  /** the request target exactly as received */
  path: string;
  /** lowercase names; repeated headers are arrays */
  headers: IncomingMessage['headers'];
  /** name, value, name, value … as received (duplicates kept) */
  rawHeaders: string[];
  bodyLength: number;
  /** the first 64 KiB of the body */
  body: Buffer;
  /** the TLS SNI the client sent */
  servername: string | undefined;
}

export type UpstreamHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  recorded: RecordedRequest,
) => void | Promise<void>;

export interface FakeUpstream {
  host: string;
  port: number;
  /** every request, in arrival order */
  requests: RecordedRequest[];
  /** every TCP connection accepted (a TLS failure still counts one) */
  connections: number;
  /** replaces the response program */
  setHandler(handler: UpstreamHandler): void;
  /** takes `Connection: upgrade` requests from now on (a WebSocket stand-in; before, they are plain requests) */
  setUpgradeHandler(handler: UpgradeHandler): void;
  close(): Promise<void>;
}

export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

export interface FakeUpstreamOptions {
  ca: TestCa;
  /** real hostnames the certificate is for */
  hostnames: string[];
  /** response program (omitted = 200 `{"ok":true}`) */
  handler?: UpstreamHandler;
  /** where to listen (omitted = 127.0.0.1 on a free port) */
  listen?: { host: string; port: number };
  /** closed in `t.after` when given */
  t?: { after(fn: () => Promise<void>): void };
}

const KEPT_BODY = 64 * 1024;

/**
 * A real HTTPS server on 127.0.0.1 with a test-CA certificate for real hostnames: the proxy
 * reaches it through `resolve`. It reads each request body fully (counting, keeping 64 KiB)
 * before calling the handler, and records everything.
 */
export async function createFakeUpstream(options: FakeUpstreamOptions): Promise<FakeUpstream> {
  const { key, cert } = options.ca.issue(options.hostnames);
  let handler: UpstreamHandler = options.handler ?? respond.json(200, { ok: true });
  const requests: RecordedRequest[] = [];
  const upgraded = new Set<Duplex>();
  const server: Server = createServer({ key, cert }, (req, res) => {
    const kept: Buffer[] = [];
    let length = 0;
    req.on('data', (chunk: Buffer) => {
      if (length < KEPT_BODY) kept.push(chunk.subarray(0, KEPT_BODY - length));
      length += chunk.length;
    });
    req.on('end', () => {
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        bodyLength: length,
        body: Buffer.concat(kept),
        servername: (req.socket as { servername?: string | false }).servername || undefined,
      };
      requests.push(recorded);
      Promise.resolve(handler(req, res, recorded)).catch(() => res.destroy());
    });
  });
  const upstream: FakeUpstream = {
    host: options.listen?.host ?? '127.0.0.1',
    port: 0,
    requests,
    connections: 0,
    setHandler: (h) => (handler = h),
    setUpgradeHandler: (h) => {
      server.removeAllListeners('upgrade');
      server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
        upgraded.add(socket);
        socket.once('close', () => upgraded.delete(socket));
        h(req, socket, head);
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        for (const socket of upgraded) socket.destroy(); // upgraded sockets leave the server's tracking
        server.close(() => resolve());
      }),
  };
  server.on('connection', () => upstream.connections++);
  server.on('tlsClientError', () => {}); // a client that rejects our cert is a test's expectation
  await new Promise<void>((resolve) =>
    server.listen(options.listen?.port ?? 0, options.listen?.host ?? '127.0.0.1', resolve),
  );
  upstream.port = (server.address() as AddressInfo).port;
  options.t?.after(() => upstream.close());
  return upstream;
}

/** Response programs. */
export const respond = {
  json(status: number, body: unknown, headers: Record<string, string | string[]> = {}): UpstreamHandler {
    return (_req, res) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
  },

  /** answers with what it received: method, target, raw headers, body (as text) */
  echo(): UpstreamHandler {
    return (_req, res, r) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ method: r.method, path: r.path, rawHeaders: r.rawHeaders, body: r.body.toString() }),
      );
    };
  },

  redirect(status: number, location: string): UpstreamHandler {
    return (_req, res) => {
      res.writeHead(status, { location, 'content-type': 'text/plain' });
      res.end(`see ${location}`);
    };
  },

  /** server-sent events; before sending event i+1 it awaits `gate(i)` (e.g. the client's ack) */
  sse(events: string[], gate: (index: number) => Promise<void> = async () => {}): UpstreamHandler {
    return async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      for (const [i, data] of events.entries()) {
        res.write(`data: ${data}\n\n`);
        if (i < events.length - 1) await gate(i);
      }
      res.end();
    };
  },

  /** `total` bytes of a repeating pattern, written with backpressure */
  bytes(total: number, chunkSize = 64 * 1024): UpstreamHandler {
    return (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(total) });
      const chunk = Buffer.alloc(chunkSize, 'airlock-');
      let sent = 0;
      const pump = () => {
        while (sent < total) {
          const piece = chunk.subarray(0, Math.min(chunkSize, total - sent));
          sent += piece.length;
          if (!res.write(piece)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    };
  },

  /** the body in these exact chunks, each flushed separately */
  chunks(parts: (string | Buffer)[], headers: Record<string, string> = {}): UpstreamHandler {
    return async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', ...headers });
      for (const part of parts) {
        res.write(part);
        await new Promise((r) => setTimeout(r, 5));
      }
      res.end();
    };
  },

  /** never answers (time-out tests) */
  hang(): UpstreamHandler {
    return () => {};
  },
};
