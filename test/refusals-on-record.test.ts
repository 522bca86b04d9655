import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createAuditWriter } from '../src/audit/writer.js';
import { AuditRecords } from '../src/store/audit-records.js';
import { openTempDb } from './helpers/audit-db.js';
import { grantAll } from './helpers/policy.js';
import { builtin, startBench } from './helpers/proxy-bench.js';
import { exchange } from './helpers/raw-client.js';

const CHAT = '/proxy/openai/v1/chat/completions';

/** Requests the proxy refuses, from Node's HTTP parser up to the policy: [name, bytes, status, type, method, path]. */
const REFUSED: [string, string, number, string, string, string][] = [
  ['lowercase method', `post ${CHAT} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n`, 400, 'airlock_bad_request', 'post', CHAT],
  [
    'Transfer-Encoding with Content-Length',
    `POST ${CHAT} HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    400, 'airlock_bad_request', 'POST', CHAT,
  ],
  ['obs-fold', `POST ${CHAT} HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  folded\r\nContent-Length: 0\r\n\r\n`, 400, 'airlock_bad_request', 'POST', CHAT],
  ['a 20 KB header', `GET ${CHAT} HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431, 'airlock_headers_too_large', 'GET', CHAT],
  ['h2c prior knowledge', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 400, 'airlock_bad_request', 'PRI', '*'],
  ['GET /', 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 404, 'airlock_unknown_service', 'GET', '/'],
  ['a policy denial', 'GET /proxy/openai/v1/models HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 403, 'airlock_policy_denied', 'GET', '/v1/models'],
]; // prettier-ignore

test('every refusal, parser-level ones included, gets airlock’s JSON answer and an audit row', async (t) => {
  const { db } = openTempDb(t);
  const writer = createAuditWriter({ db });
  t.after(() => writer.close());
  const policy = grantAll([builtin('openai')], { allowEndpoints: ['openai:POST:/v1/chat/completions'] });
  const bench = await startBench(t, {
    services: ['openai'],
    sandboxId: 'sbx-refusals',
    deps: { audit: writer, policy },
  });

  for (const [name, bytes, status, type] of REFUSED) {
    const { responses } = await exchange(bench.proxy.address.port, bytes);
    assert.equal(responses.length, 1, name);
    const [res] = responses;
    assert.equal(res?.status, status, `${name}: ${res?.body}`);
    assert.match(res?.headers['content-type'] ?? '', /^application\/json/, name);
    const body = JSON.parse(res?.body ?? '') as { error: { type: string; message: string } };
    assert.equal(body.error.type, type, name);
    assert.ok(body.error.message.length > 0, name);
  }
  assert.equal(bench.upstream.requests.length, 0, 'nothing went upstream');

  await writer.flush();
  const rows = new AuditRecords(db).list({});
  assert.deepEqual(
    rows.map((r) => [r.sandbox, r.decision, r.status, r.reason, r.method, r.path]),
    REFUSED.map(([, , status, type, method, path]) => ['sbx-refusals', 'denied', status, type, method, path]),
  );
});
