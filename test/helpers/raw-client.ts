import { connect, type Socket } from 'node:net';

/**
 * A minimal HTTP/1.1 client over raw TCP to 127.0.0.1: the request bytes go out exactly as the
 * test wrote them (no URL parsing, no header normalization), and responses are parsed back
 * from the byte stream (Content-Length, chunked, or until close). For requests a well-behaved
 * client would never send.
 */

/** One response as read off the wire. */
export interface RawResponse {
  status: number;
  /** lowercase names; repeated headers joined with `, ` */
  headers: Record<string, string>;
  body: string;
}

type Parsed = { response: RawResponse; used: number } | undefined;

/** Parses one complete response at the start of `buf` (undefined = need more bytes). */
function parseOne(buf: Buffer, atEof: boolean): Parsed {
  const headEnd = buf.indexOf('\r\n\r\n');
  if (headEnd < 0) return undefined;
  const lines = buf.subarray(0, headEnd).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1] ?? NaN);
  if (Number.isNaN(status)) throw new Error(`not an HTTP response: ${JSON.stringify(lines[0])}`);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  let pos = headEnd + 4;
  if (status === 204 || status === 304 || (status >= 100 && status < 200)) {
    return { response: { status, headers, body: '' }, used: pos };
  }
  if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
    const parts: Buffer[] = [];
    for (;;) {
      const lineEnd = buf.indexOf('\r\n', pos);
      if (lineEnd < 0) return undefined;
      const size = parseInt(buf.subarray(pos, lineEnd).toString('latin1'), 16);
      if (Number.isNaN(size)) throw new Error('bad chunk size');
      pos = lineEnd + 2;
      if (size === 0) {
        // no trailers from our servers: the last chunk is followed by one CRLF
        if (buf.length < pos + 2) return undefined;
        return { response: { status, headers, body: Buffer.concat(parts).toString('utf8') }, used: pos + 2 };
      }
      if (buf.length < pos + size + 2) return undefined;
      parts.push(buf.subarray(pos, pos + size));
      pos += size + 2;
    }
  }
  if (headers['content-length'] !== undefined) {
    const length = Number(headers['content-length']);
    if (buf.length < pos + length) return undefined;
    return {
      response: { status, headers, body: buf.subarray(pos, pos + length).toString('utf8') },
      used: pos + length,
    };
  }
  if (!atEof) return undefined;
  return { response: { status, headers, body: buf.subarray(pos).toString('utf8') }, used: buf.length };
}

/** Every complete response in `buf`, in order, and the bytes left over. */
export function parseResponses(buf: Buffer, atEof = false): { responses: RawResponse[]; rest: Buffer } {
  const responses: RawResponse[] = [];
  let rest = buf;
  for (;;) {
    if (rest.length === 0) break;
    const one = parseOne(rest, atEof);
    if (!one) break;
    responses.push(one.response);
    rest = rest.subarray(one.used);
  }
  return { responses, rest };
}

export interface Exchange {
  /** every response the server sent before it closed the connection */
  responses: RawResponse[];
  /** everything received, latin1 */
  raw: string;
}

/**
 * Opens one connection, writes `data` verbatim and reads until the server closes it (so the
 * last request should say `Connection: close`, or be one the server refuses). Never half-closes
 * first: the server answers everything it parsed, then closes.
 */
export function exchange(port: number, data: string | Buffer): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // a server that refuses a request may reset the connection; what it sent still counts
      if (err.code !== 'ECONNRESET' && err.code !== 'EPIPE') reject(err);
    });
    socket.on('close', () => {
      const all = Buffer.concat(chunks);
      try {
        resolve({ responses: parseResponses(all, true).responses, raw: all.toString('latin1') });
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
    socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  });
}

/**
 * A keep-alive connection sending one request at a time (no pipelining, so a refused request
 * cannot take others down with it). When the server closes the connection, the pending request
 * resolves with what was received (or `closed`) and the next one opens a new connection.
 */
export class KeepAliveClient {
  #port: number;
  #socket: Socket | undefined;
  #buffer: Buffer = Buffer.alloc(0);
  #pending: { resolve(r: RawResponse | 'closed'): void; reject(e: Error): void } | undefined;
  /** connections opened so far */
  connections = 0;

  constructor(port: number) {
    this.#port = port;
  }

  #open(): Socket {
    const socket = connect(this.#port, '127.0.0.1');
    this.connections++;
    this.#buffer = Buffer.alloc(0);
    socket.on('data', (c: Buffer) => {
      if (this.#socket !== socket) return;
      this.#buffer = Buffer.concat([this.#buffer, c]);
      this.#drain(false);
    });
    socket.on('error', () => {}); // a reset after a refusal: 'close' follows
    socket.on('close', () => {
      // a connection this client already let go of says nothing about the pending request
      if (this.#socket !== socket) return;
      this.#socket = undefined;
      this.#drain(true);
      const p = this.#pending;
      this.#pending = undefined;
      p?.resolve('closed');
    });
    return socket;
  }

  #drain(atEof: boolean): void {
    if (!this.#pending) return;
    let parsed;
    try {
      parsed = parseResponses(this.#buffer, atEof);
    } catch (err) {
      const p = this.#pending;
      this.#pending = undefined;
      p.reject(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    const first = parsed.responses[0];
    if (!first) return;
    if (parsed.responses.length > 1) {
      this.#pending.reject(new Error('the server sent more responses than requests'));
      this.#pending = undefined;
      return;
    }
    this.#buffer = Buffer.from(parsed.rest);
    if (/close/i.test(first.headers.connection ?? '')) {
      // the server closes after this one: the next request must not be written into that
      this.#socket?.destroy();
      this.#socket = undefined;
    }
    const p = this.#pending;
    this.#pending = undefined;
    p.resolve(first);
  }

  /** Sends one request (bytes verbatim) and resolves with its response, or `closed`. */
  send(data: string | Buffer): Promise<RawResponse | 'closed'> {
    if (this.#pending) return Promise.reject(new Error('one request at a time'));
    const socket = (this.#socket ??= this.#open());
    return new Promise((resolve, reject) => {
      this.#pending = { resolve, reject };
      socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
    });
  }

  /** Drops the connection (a pending request resolves `closed`); the next `send` opens a new one. */
  close(): void {
    this.#socket?.destroy();
    this.#socket = undefined;
    const p = this.#pending;
    this.#pending = undefined;
    p?.resolve('closed');
  }
}
