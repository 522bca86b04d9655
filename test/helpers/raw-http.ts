import { connect } from 'node:net';

/**
 * Sends `head` (request line and headers, `\r\n` separated, without the final blank line)
 * and `body` verbatim over a fresh TCP connection to 127.0.0.1 with `Connection: close`
 * semantics, and returns the raw response. For requests a well-behaved client would not send.
 */
export function rawHttp(port: number, head: string, body = ''): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve({ status: Number(/^HTTP\/1\.\d (\d{3})/.exec(text)?.[1] ?? 0), text }));
    socket.write(`${head}\r\n\r\n${body}`);
    socket.setTimeout(10_000, () => socket.destroy());
  });
}
