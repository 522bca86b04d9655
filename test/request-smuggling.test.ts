import assert from 'node:assert/strict';
import { test } from 'node:test';
import { METHOD_OVERRIDE_HEADERS } from '../src/policy/index.js';
import type { RecordedRequest } from './helpers/fake-upstream.js';
import { startPolicyBench, type PolicyBench } from './helpers/policy-proxy.js';
import { exchange, type RawResponse } from './helpers/raw-client.js';

/**
 * Request smuggling and header tricks over raw sockets to the real proxy (real policy: only
 * `POST /v1/chat/completions`, plus `PURGE /v1/cache` to show a named method gets through).
 * Each case is one connection. Where the connection should survive, a sentinel request follows
 * on the same connection: if the proxy and the guest disagreed on where the first request ended,
 * the sentinel would be swallowed or a smuggled request would appear between the two.
 */

const HEAD = 'POST /proxy/openai/v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n';
/** what a smuggler hides in a body: a request the policy refuses */
const SMUGGLED =
  'DELETE /proxy/openai/v1/files/smuggled HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n';
const SENTINEL =
  'POST /proxy/openai/v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Sentinel: 1\r\n' +
  'Content-Length: 0\r\nConnection: close\r\n\r\n';

interface Probe {
  bench: PolicyBench;
  responses: RawResponse[];
  /** what reached the upstream during this exchange, sentinel excluded */
  seen: RecordedRequest[];
  /** whether the sentinel reached the upstream */
  sentinel: boolean;
}

async function send(bench: PolicyBench, data: string): Promise<Probe> {
  const before = bench.upstream.requests.length;
  const { responses } = await exchange(bench.proxy.address.port, data);
  const all = bench.upstream.requests.slice(before);
  const seen = all.filter((r) => r.headers['x-sentinel'] === undefined);
  return { bench, responses, seen, sentinel: all.length > seen.length };
}

/** Refused by the proxy's HTTP parser: a 400 (or a closed connection), nothing upstream, ever. */
function assertRejected(name: string, p: Probe): void {
  assert.ok(p.responses.length <= 1, `${name}: one answer at most, got ${p.responses.length}`);
  if (p.responses[0]) assert.equal(p.responses[0].status, 400, `${name}: ${p.responses[0].body}`);
  assert.deepEqual(
    p.seen.map((r) => `${r.method} ${r.path}`),
    [],
    `${name}: the upstream saw nothing`,
  );
  assert.equal(p.sentinel, false, `${name}: the connection was not reused after the refusal`);
}

/** The upstream got exactly one well-formed request: the checked one, re-framed by the proxy. */
function assertOneClean(name: string, p: Probe, body = ''): RecordedRequest {
  assert.equal(p.responses[0]?.status, 200, `${name}: ${p.responses[0]?.body}`);
  assert.equal(p.seen.length, 1, `${name}: exactly one request upstream`);
  const r = p.seen[0]!;
  assert.equal(r.method, 'POST', name);
  assert.equal(r.path, '/v1/chat/completions', name);
  assert.equal(r.body.toString('latin1'), body, `${name}: the body`);
  assert.ok(
    r.headers['content-length'] === undefined || r.headers['transfer-encoding'] === undefined,
    `${name}: one framing`,
  );
  for (const h of ['upgrade', 'http2-settings', 'proxy-connection', 'te', 'trailer', 'expect']) {
    assert.equal(r.headers[h], undefined, `${name}: ${h} was not forwarded`);
  }
  for (const h of METHOD_OVERRIDE_HEADERS) assert.equal(r.headers[h], undefined, `${name}: ${h} stripped`);
  assert.deepEqual(
    r.rawHeaders.filter((_, i) => i % 2 === 0 && r.rawHeaders[i]!.toLowerCase() === 'host'),
    ['host'],
    `${name}: one Host`,
  );
  assert.equal(r.headers.host, `api.openai.com:${p.bench.upstream.port}`, `${name}: the proxy's Host`);
  assert.equal(r.headers.authorization, `Bearer ${p.bench.cred('openai').secret}`, `${name}: the real key`);
  return r;
}

/** The attack's request was answered, then the sentinel: the proxy and the guest agree on framing. */
function assertInSync(name: string, p: Probe): void {
  assert.equal(
    p.responses.length,
    2,
    `${name}: two answers, got ${p.responses.map((r) => r.status).join(', ')}`,
  );
  assert.equal(p.responses[1]?.status, 200, `${name}: the sentinel`);
  assert.equal(p.sentinel, true, `${name}: the sentinel reached the upstream`);
}

const policy = {
  credentials: ['OPENAI_API_KEY'],
  allowEndpoints: ['openai:POST:/v1/chat/completions', 'openai:PURGE:/v1/cache'],
};

test('ambiguous framing, folded and bare-LF headers, CR/LF/NUL: rejected, nothing upstream', async (t) => {
  const bench = await startPolicyBench(t, policy);
  // positive control: the same bytes, well-formed, pass and keep the connection in sync
  const control = await send(bench, `${HEAD}Content-Length: 2\r\n\r\n{}${SENTINEL}`);
  assertOneClean('control', control, '{}');
  assertInSync('control', control);

  const cases: [name: string, data: string][] = [
    ['CL.TE', `${HEAD}Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`],
    [
      'TE.CL',
      `${HEAD}Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n5\r\nhello\r\n0\r\n\r\n${SMUGGLED}`,
    ],
    ['duplicate Content-Length', `${HEAD}Content-Length: 2\r\nContent-Length: 40\r\n\r\n{}${SMUGGLED}`],
    [
      'duplicate Content-Length, same value',
      `${HEAD}Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}${SMUGGLED}`,
    ],
    ['Content-Length list', `${HEAD}Content-Length: 2, 2\r\n\r\n{}${SMUGGLED}`],
    ['Content-Length +2', `${HEAD}Content-Length: +2\r\n\r\n{}${SMUGGLED}`],
    ['Content-Length -1', `${HEAD}Content-Length: -1\r\n\r\n${SMUGGLED}`],
    ['TE: chunked, identity', `${HEAD}Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n${SMUGGLED}`],
    ['TE: xchunked', `${HEAD}Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n${SMUGGLED}`],
    [
      'TE twice',
      `${HEAD}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`,
    ],
    ['TE with space before colon', `${HEAD}Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`],
    ['chunk size ended by bare LF', `${HEAD}Transfer-Encoding: chunked\r\n\r\n2\n{}\r\n0\r\n\r\n${SMUGGLED}`],
    ['obs-fold continuation', `${HEAD}X-A: 1\r\n  folded: yes\r\nContent-Length: 0\r\n\r\n${SMUGGLED}`],
    [
      'obs-fold into TE',
      `${HEAD}Transfer-Encoding: identity\r\n chunked\r\nContent-Length: 0\r\n\r\n${SMUGGLED}`,
    ],
    [
      'bare LF line endings',
      `POST /proxy/openai/v1/chat/completions HTTP/1.1\nHost: 127.0.0.1\nContent-Length: 0\n\n${SMUGGLED}`,
    ],
    ['bare LF in one header line', `${HEAD}X-A: 1\nContent-Length: 0\r\n\r\n${SMUGGLED}`],
    ['bare CR in a header line', `${HEAD}X-A: 1\rContent-Length: 0\r\n\r\n${SMUGGLED}`],
    ['NUL in a header value', `${HEAD}X-A: a\u0000b\r\nContent-Length: 0\r\n\r\n${SMUGGLED}`],
    ['CR in a header value', `${HEAD}X-A: a\rb\r\nContent-Length: 0\r\n\r\n${SMUGGLED}`],
    [
      'CR LF CR injecting a header',
      `${HEAD}X-A: a\r\n\rX-HTTP-Method-Override: DELETE\r\nContent-Length: 0\r\n\r\n${SMUGGLED}`,
    ],
    [
      'NUL in the path',
      `POST /proxy/openai/v1/chat/completions\u0000/../files HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n${SMUGGLED}`,
    ],
    [
      'CR in the path',
      `POST /proxy/openai/v1/chat/completions\r/../files HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n${SMUGGLED}`,
    ],
    [
      'LF in the path',
      `POST /proxy/openai/v1/chat/completions\n/../files HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n${SMUGGLED}`,
    ],
    [
      'LF in the path, a second request line after it',
      `POST /proxy/openai/v1/chat/completions\nDELETE /proxy/openai/v1/files HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n`,
    ],
    [
      'lowercase method',
      `post /proxy/openai/v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n`,
    ],
    [
      'unknown method token',
      `FOO /proxy/openai/v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n`,
    ],
    ['HTTP/2 preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'],
  ];
  for (const [name, data] of cases) assertRejected(name, await send(bench, `${data}${SENTINEL}`));

  // over the whole test, nothing but the checked endpoint ever reached the upstream
  for (const r of bench.upstream.requests) assert.equal(`${r.method} ${r.path}`, 'POST /v1/chat/completions');
});

test('a request line cut short by a bare LF is read as that short line, and checked as such', async (t) => {
  const bench = await startPolicyBench(t, policy);
  // Node reads `POST /path\n` as a request line without a version; what follows are headers. The
  // policy checks the short path and the upstream gets exactly it, or nothing when it is refused.
  const refused = await send(
    bench,
    'POST /proxy/openai/v1/files\nX: HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n',
  );
  assert.equal(refused.responses[0]?.status, 403, refused.responses[0]?.body);
  assert.deepEqual(refused.seen, []);
  const allowed = await send(
    bench,
    'POST /proxy/openai/v1/chat/completions\nX: HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n',
  );
  assert.equal(allowed.responses[0]?.status, 200, allowed.responses[0]?.body);
  assert.deepEqual(
    allowed.seen.map((r) => `${r.method} ${r.path}`),
    ['POST /v1/chat/completions'],
  );
});

test('Upgrade (websocket, h2c), method overrides, hop-by-hop tricks: neutralised', async (t) => {
  const bench = await startPolicyBench(t, policy);

  // Upgrade: no 101 and nothing upstream unless it is a well-formed WebSocket handshake (a GET)
  // the policy allows; here a POST, so 400 (docs/proxy.md, WebSockets)
  for (const [name, headers] of [
    [
      'Upgrade: websocket',
      'Connection: Upgrade, close\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n',
    ],
    [
      'Upgrade: h2c',
      'Connection: Upgrade, HTTP2-Settings, close\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n',
    ],
  ] as const) {
    const p = await send(bench, `${HEAD}${headers}Content-Length: 0\r\n\r\n`);
    assert.equal(p.responses.length, 1, name);
    assert.equal(p.responses[0]?.status, 400, `${name}: not switched: ${p.responses[0]?.body}`);
    assert.deepEqual(p.seen, [], `${name}: nothing upstream`);
    // and on a refused path the Upgrade changes nothing either
    const denied = await send(
      bench,
      `GET /proxy/openai/v1/realtime HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers}Content-Length: 0\r\n\r\n`,
    );
    assert.equal(denied.responses[0]?.status, 403, `${name} on a refused path: ${denied.responses[0]?.body}`);
    assert.deepEqual(denied.seen, [], `${name} on a refused path: nothing upstream`);
  }

  // every method-override header the policy names is stripped: the upstream sees the real method
  const overrides = METHOD_OVERRIDE_HEADERS.map((h) => `${h}: DELETE\r\n`).join('');
  const upper = METHOD_OVERRIDE_HEADERS.map((h) => `${h.toUpperCase()}: PUT\r\n`).join('');
  for (const [name, headers] of [
    ['X-HTTP-Method-Override and friends', overrides],
    ['override headers in upper case', upper],
    ['override headers listed in Connection', `Connection: keep-alive, X-Foo\r\n${overrides}`],
  ] as const) {
    const p = await send(bench, `${HEAD}${headers}Content-Length: 2\r\n\r\n{}${SENTINEL}`);
    assertOneClean(name, p, '{}');
    assertInSync(name, p);
  }

  // a Connection header naming the credential header cannot make the proxy drop its own
  const named = await send(
    bench,
    `${HEAD}Connection: authorization, x-api-key\r\nContent-Length: 0\r\n\r\n${SENTINEL}`,
  );
  assertOneClean('Connection: authorization', named);
  assertInSync('Connection: authorization', named);

  // a second Host is not forwarded: the proxy sends its own, once
  const twoHosts = await send(bench, `${HEAD}Host: evil.test\r\nContent-Length: 0\r\n\r\n${SENTINEL}`);
  assertOneClean('duplicate Host', twoHosts);
  assertInSync('duplicate Host', twoHosts);

  // well-formed framings the proxy re-frames itself: one request each, body intact, in sync
  for (const [name, headers, body] of [
    ['chunked', 'Transfer-Encoding: chunked\r\n', '2\r\n{}\r\n0\r\n\r\n'],
    ['chunked with an extension', 'Transfer-Encoding: chunked\r\n', '2;x=y\r\n{}\r\n0\r\n\r\n'],
    [
      'chunked with a trailer',
      'Transfer-Encoding: chunked\r\n',
      '2\r\n{}\r\n0\r\nX-HTTP-Method-Override: DELETE\r\n\r\n',
    ],
    ['TE: identity, chunked', 'Transfer-Encoding: identity, chunked\r\n', '2\r\n{}\r\n0\r\n\r\n'],
    ['Expect: 100-continue', 'Expect: 100-continue\r\nContent-Length: 2\r\n', '{}'],
    [
      'TE: trailers, Proxy-Connection',
      'TE: trailers\r\nProxy-Connection: keep-alive\r\nContent-Length: 2\r\n',
      '{}',
    ],
  ] as const) {
    const p = await send(bench, `${HEAD}${headers}\r\n${body}${SENTINEL}`);
    const answers = p.responses.filter((r) => r.status !== 100);
    assertOneClean(name, { ...p, responses: answers }, '{}');
    assertInSync(name, { ...p, responses: answers });
  }
});

test('methods: the exact token is checked; a method named by a rule gets through, others are refused', async (t) => {
  const bench = await startPolicyBench(t, policy);
  const call = (method: string, path: string) =>
    send(
      bench,
      `${method} /proxy/openai${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n${SENTINEL}`,
    );

  // PURGE is a method Node parses but fastify does not route by default: it must still reach the policy
  const named = await call('PURGE', '/v1/cache');
  assert.equal(named.responses[0]?.status, 200, named.responses[0]?.body);
  assert.deepEqual(
    named.seen.map((r) => `${r.method} ${r.path}`),
    ['PURGE /v1/cache'],
  );
  assertInSync('PURGE', named);

  for (const [method, path] of [
    ['PURGE', '/v1/chat/completions'],
    ['PROPFIND', '/v1/chat/completions'],
    ['TRACE', '/v1/chat/completions'],
    ['GET', '/v1/chat/completions'],
    ['POST', '/v1/cache'],
  ] as const) {
    const p = await call(method, path);
    const res = p.responses[0];
    assert.ok(res, `${method} ${path}: answered`);
    assert.equal(res.status, 403, `${method} ${path}: ${res.body}`);
    const body = JSON.parse(res.body) as { error: { type: string; message: string } };
    assert.equal(body.error.type, 'airlock_policy_denied', `${method} ${path}`);
    assert.match(body.error.message, /service "openai"/);
    assert.deepEqual(p.seen, [], `${method} ${path}: nothing upstream`);
    assertInSync(`${method} ${path}`, p);
  }
  // the audit log has each refusal with its real method
  assert.deepEqual(
    bench.audit.denials.map((d) => d.method),
    ['PURGE', 'PROPFIND', 'TRACE', 'GET', 'POST'],
  );
});
