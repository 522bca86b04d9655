import type { IncomingMessage } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import type { FakeUpstream } from './fake-upstream.js';

/** One handshake as the stand-in saw it. */
export interface WsHandshake {
  /** the request target exactly as received */
  path: string;
  /** lowercase names; repeated headers are arrays */
  headers: IncomingMessage['headers'];
}

export interface WsStandIn {
  handshakes: WsHandshake[];
  /** the stand-in's end of each accepted session, in order */
  sessions: WebSocket[];
}

/**
 * A WebSocket server on the fake upstream (TLS, test CA). It accepts a handshake only with
 * `Authorization: Bearer <secret>`; otherwise, and for any path ending in `/refuse`, it
 * answers 401 with a JSON body naming the key it wanted (the real one: a scrubber test).
 * Each message is answered: text `key?` → text `{"authorization":"<the header it got>"}`
 * (`split key?`: the same in two frames, the key cut between them);
 * text `burst <n> <bytes>` → n binary messages of that size at once (the same buffer each
 * time: no copies); anything else echoed
 * with its type.
 */
export function wsStandIn(upstream: FakeUpstream, secret: string): WsStandIn {
  const handshakes: WsHandshake[] = [];
  const sessions: WebSocket[] = [];
  const standIn: WsStandIn = { handshakes, sessions };
  const server = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  upstream.setUpgradeHandler((req, socket, head) => {
    handshakes.push({ path: req.url ?? '', headers: req.headers });
    const authorization = req.headers.authorization ?? '';
    if (authorization !== `Bearer ${secret}` || (req.url ?? '').split('?')[0]!.endsWith('/refuse')) {
      const body = JSON.stringify({ error: `wanted Bearer ${secret}` });
      socket.end(
        `HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nx-wanted: ${secret}\r\n\r\n${body}`,
      );
      return;
    }
    server.handleUpgrade(req, socket, head, (ws) => {
      sessions.push(ws);
      ws.on('error', () => {});
      ws.on('message', (data: Buffer, isBinary) => {
        const text = isBinary ? '' : data.toString();
        const burst = /^burst (\d+) (\d+)$/.exec(text);
        if (text === 'key?') ws.send(JSON.stringify({ authorization }));
        else if (text === 'split key?') {
          // one text message in two frames, the key cut in half between them
          const whole = JSON.stringify({ authorization });
          const cut = whole.indexOf(secret) + Math.floor(secret.length / 2);
          ws.send(whole.slice(0, cut), { fin: false });
          ws.send(whole.slice(cut), { fin: true });
        } else if (burst) {
          const chunk = Buffer.alloc(Number(burst[2]), 'b');
          for (let i = 0; i < Number(burst[1]); i++) ws.send(chunk, { binary: true });
        } else ws.send(data, { binary: isBinary });
      });
    });
  });
  return standIn;
}
