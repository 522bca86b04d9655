import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Duplex, Readable, Writable } from 'node:stream';
import type { ProxyLogger } from './logger.js';
import { AirlockError } from '../../errors.js';
import { errorAnswer, rawAnswer, type ErrorAnswer } from './answer.js';

/**
 * The guest's side of one exchange: all a transport supplies. The exchange reads the
 * guest's bytes from `body`, answers through `fail` or `begin`, and learns from `onClose`
 * that the guest went away.
 */
export interface ReplyPort {
  /** `tunnel`: either side hanging up ends the exchange normally; `http`: the answer must be complete */
  readonly kind: 'http' | 'tunnel';
  /** what the guest sends upstream: the request body, or a tunnel's bytes (null = nothing) */
  readonly body: Readable | null;
  /** answers with an airlock error; if the answer already began, cuts it short instead */
  fail(answer: ErrorAnswer): void;
  /** begins the upstream's answer; returns where its body goes */
  begin(status: number, headers: OutgoingHttpHeaders): Writable;
  /** `fn` runs once if the guest goes away before the answer has ended (a tunnel: before it began) */
  onClose(fn: () => void): void;
}

function requestHasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** An HTTP request and its response: the reverse route and absolute-form requests. */
export function httpPort(req: IncomingMessage, res: ServerResponse): ReplyPort {
  return {
    kind: 'http',
    body: requestHasBody(req) ? req : null,
    fail(answer) {
      if (res.headersSent) return void res.destroy();
      res.writeHead(answer.status, answer.headers);
      res.end(answer.body);
    },
    begin(status, headers) {
      res.writeHead(status, headers);
      return res;
    },
    onClose(fn) {
      res.on('close', () => {
        if (!res.writableFinished) fn();
      });
    },
  };
}

/**
 * A raw socket: a `CONNECT` (`head` = the bytes the guest sent after its request) or a
 * request Node's parser refused. Errors go out as a whole HTTP response, then the socket closes.
 */
export function socketPort(socket: Duplex, head: Buffer = Buffer.alloc(0)): ReplyPort {
  socket.on('error', () => {}); // a guest resetting its end is not a proxy error
  // one exchange per socket, whose two pipelines, port and bookkeeping each watch its close
  // (11 listeners): past Node's default of 10 it would log a leak warning for every tunnel
  socket.setMaxListeners(20);
  if (head.length > 0) socket.unshift(head);
  let began = false;
  return {
    kind: 'tunnel',
    body: socket,
    fail(answer) {
      if (began || !socket.writable) return void socket.destroy();
      socket.end(rawAnswer(answer), () => socket.destroy());
    },
    begin() {
      began = true;
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      return socket;
    },
    onClose(fn) {
      socket.on('close', () => {
        if (!began) fn();
      });
    },
  };
}

/** A guest already gone (a tunnel whose TLS handshake failed): its refusal is recorded, nothing is answered. */
export const gonePort: ReplyPort = {
  kind: 'tunnel',
  body: null,
  fail() {},
  begin() {
    throw new Error('nothing can be answered to a guest that is gone');
  },
  onClose() {},
};

/** For a handler's promise: a bug is logged and answered 500, never left as an unhandled rejection. */
export function failOnBug(port: ReplyPort, logger: ProxyLogger): (err: unknown) => void {
  return (err) => {
    logger.error({ err }, 'internal proxy error');
    port.fail(errorAnswer(new AirlockError('AIRLOCK_ERR_INTERNAL', 'internal proxy error')));
  };
}
