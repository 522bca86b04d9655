import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startForwardBench } from './helpers/forward-bench.js';
import { rawHttp } from './helpers/raw-http.js';
import { runGuest } from './helpers/run-guest.js';

test('absolute-form HTTP to an allowed host is forwarded with hop-by-hop headers removed', async (t) => {
  const bench = await startForwardBench(t);
  const res = await rawHttp(
    bench.port,
    [
      'GET http://allowed.test/path/x?y=1 HTTP/1.1',
      'Host: allowed.test',
      'Proxy-Authorization: Basic Zm9vOmJhcg==',
      'Proxy-Connection: keep-alive',
      'Connection: close',
    ].join('\r\n'),
  );
  assert.equal(res.status, 200);
  assert.match(res.text, /plain hello from allowed\.test\/path\/x\?y=1/);
  assert.doesNotMatch(res.text, /x-secret-hop/i, 'response hop-by-hop headers are dropped');
  const seen = bench.httpRequests[0]!;
  assert.equal(seen.path, '/path/x?y=1');
  assert.equal(seen.headers.host, 'allowed.test');
  assert.equal(seen.headers['proxy-authorization'], undefined);
  assert.equal(seen.headers['proxy-connection'], undefined);
  assert.deepEqual(bench.dials, [{ ip: '127.0.0.1', port: 80 }]);
  assert.equal(bench.audit.intents[0]?.path, '/path/x');
  assert.equal(bench.audit.intents[0]?.query, 'y=1');
});

test('absolute-form refusals: Host mismatch, userinfo, https, credential host, denied host', async (t) => {
  const bench = await startForwardBench(t);
  const cases: [line: string, host: string, status: number, type: string][] = [
    ['GET http://allowed.test/ HTTP/1.1', 'also-allowed.test', 400, 'airlock_bad_request'],
    ['GET http://allowed.test:8080/ HTTP/1.1', 'allowed.test', 400, 'airlock_bad_request'],
    ['GET http://user@allowed.test/ HTTP/1.1', 'allowed.test', 400, 'airlock_bad_request'],
    ['GET https://allowed.test/ HTTP/1.1', 'allowed.test', 400, 'airlock_bad_request'],
    ['GET http://api.openai.com/v1/models HTTP/1.1', 'api.openai.com', 403, 'airlock_use_base_url'],
    ['GET http://denied.test/ HTTP/1.1', 'denied.test', 403, 'airlock_policy_denied'],
    [
      'GET http://metadata.test/latest/meta-data/ HTTP/1.1',
      'metadata.test',
      403,
      'airlock_forbidden_address',
    ],
    ['OPTIONS * HTTP/1.1', 'allowed.test', 400, 'airlock_bad_request'],
  ];
  for (const [line, host, status, type] of cases) {
    const res = await rawHttp(bench.port, `${line}\r\nHost: ${host}\r\nConnection: close`);
    assert.equal(res.status, status, line);
    assert.match(res.text, new RegExp(`"type":"${type}"`), line);
  }
  assert.deepEqual(bench.dials, []);
  assert.equal(bench.httpRequests.length, 0);
});

test("curl through HTTPS_PROXY reaches an allowed host, and fails with airlock's answer for others", async (t) => {
  const bench = await startForwardBench(t);
  const curl = (url: string) =>
    runGuest('curl', ['-sS', '--cacert', bench.ca.caFile, url], bench.env, 20_000);
  const ok = await curl('https://allowed.test/hello');
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /"ok":true/);
  assert.equal(bench.tls.requests[0]?.servername, 'allowed.test');
  const denied = await curl('https://denied.test/');
  assert.notEqual(denied.code, 0);
  assert.match(denied.stderr, /403/);
  const credential = await curl('https://api.openai.com/v1/models');
  assert.notEqual(credential.code, 0, 'the credential host is refused through the tunnel');
  assert.deepEqual(bench.dials, [{ ip: '127.0.0.1', port: 443 }], 'only the allowed host was dialled');
});
