import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { errorBody } from './proxy-error.js';

/** Answers on a raw socket (CONNECT has no response object) with the proxy's JSON error, then closes it. */
export function writeRawError(socket: Duplex, status: number, type: string, message: string): void {
  const body = errorBody(type, message);
  if (!socket.writable) return void socket.destroy();
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
      'content-type: application/json; charset=utf-8\r\n' +
      `content-length: ${Buffer.byteLength(body)}\r\n` +
      'connection: close\r\n\r\n' +
      body,
  );
}
