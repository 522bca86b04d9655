import assert from 'node:assert/strict';
import { test } from 'node:test';
import { respond } from './helpers/fake-upstream.js';
import { startBench } from './helpers/proxy-bench.js';
import { rawHttp } from './helpers/raw-http.js';

const POST = 'POST /proxy/openai/v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1';
const SMUGGLED = 'GET /proxy/openai/v1/admin HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';

test('ambiguous framing and header tricks are rejected; the upstream sees no smuggled request', async (t) => {
  const bench = await startBench(t, { services: ['openai'], handler: respond.echo() });
  const cases: [name: string, head: string, body: string][] = [
    ['CL.TE', `${POST}\r\nContent-Length: 6\r\nTransfer-Encoding: chunked`, `0\r\n\r\n${SMUGGLED}`],
    [
      'TE.CL',
      `${POST}\r\nTransfer-Encoding: chunked\r\nContent-Length: 3`,
      `5\r\nhello\r\n0\r\n\r\n${SMUGGLED}`,
    ],
    ['duplicate Content-Length', `${POST}\r\nContent-Length: 2\r\nContent-Length: 40`, `{}${SMUGGLED}`],
    ['obfuscated TE', `${POST}\r\nTransfer-Encoding: xchunked`, `0\r\n\r\n${SMUGGLED}`],
    ['obs-fold', `${POST}\r\nX-A: 1\r\n  folded: yes\r\nContent-Length: 0`, ''],
    ['bare LF', 'GET /proxy/openai/v1/models HTTP/1.1\nHost: 127.0.0.1\nX-A: 1', ''],
    ['NUL in a header value', `${POST}\r\nX-A: a\u0000b\r\nContent-Length: 0`, ''],
    ['space before colon', `${POST}\r\nContent-Length : 0`, ''],
  ];
  for (const [name, head, body] of cases) {
    const res = await rawHttp(bench.proxy.address.port, head, body);
    assert.equal(res.status, 400, `${name}: ${res.text.slice(0, 80)}`);
  }
  const admin = bench.upstream.requests.filter((r) => r.path.includes('admin'));
  assert.deepEqual(admin, [], 'no smuggled request reached the upstream');
});

test('Upgrade requests that are not a well-formed WebSocket handshake are refused: no 101, nothing upstream', async (t) => {
  const bench = await startBench(t, { services: ['openai'], handler: respond.echo() });
  for (const upgrade of ['websocket', 'h2c']) {
    const res = await rawHttp(
      bench.proxy.address.port,
      `GET /proxy/openai/v1/realtime HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade, HTTP2-Settings, close\r\nUpgrade: ${upgrade}\r\nHTTP2-Settings: AAMAAABkAAQAAP__`,
    );
    assert.equal(res.status, 400, `${upgrade} was not switched`);
  }
  assert.equal(bench.upstream.requests.length, 0, 'nothing went upstream');
});
