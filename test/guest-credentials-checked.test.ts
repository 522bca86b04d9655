import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from 'undici';
import { respond } from './helpers/fake-upstream.js';
import { startBench } from './helpers/proxy-bench.js';
import { rawHttp } from './helpers/raw-http.js';

const count = (raw: string[], name: string) =>
  raw.filter((v, i) => i % 2 === 0 && v.toLowerCase() === name).length;

test('guest credentials: only nothing or this sandbox placeholder passes, and is replaced', async (t) => {
  const bench = await startBench(t, { services: ['openai', 'anthropic', 'google'], handler: respond.echo() });
  const openai = bench.cred('openai');
  const anthropic = bench.cred('anthropic');
  const google = bench.cred('google');
  const send = (path: string, headers: string[]) => request(`${bench.baseUrl}${path}`, { headers });

  await t.test('another key is refused, and nothing goes upstream', async () => {
    const before = bench.upstream.requests.length;
    const res = await send('/proxy/openai/v1/models', ['authorization', 'Bearer sk-someone-elses-key']);
    assert.equal(res.statusCode, 403);
    const body = (await res.body.json()) as { error: { type: string; message: string } };
    assert.equal(body.error.type, 'airlock_wrong_credential');
    assert.ok(!body.error.message.includes('sk-someone-elses-key'), 'the refused value is not echoed');
    assert.equal(bench.upstream.requests.length, before);
    assert.equal(bench.audit.denials.at(-1)?.status, 403);
  });

  await t.test('another service placeholder is refused', async () => {
    const res = await send('/proxy/anthropic/v1/messages', ['x-api-key', openai.placeholder]);
    assert.equal(res.statusCode, 403);
    await res.body.text();
  });

  await t.test('duplicates and case variants are all removed; one real header goes up', async () => {
    const res = await send('/proxy/openai/v1/models', [
      'Authorization', `Bearer ${openai.placeholder}`,
      'AUTHORIZATION', `bearer ${openai.placeholder}`,
      'proxy-authorization', `Bearer ${openai.placeholder}`,
    ]); // prettier-ignore
    assert.equal(res.statusCode, 200);
    await res.body.text();
    const seen = bench.upstream.requests.at(-1)!;
    assert.equal(count(seen.rawHeaders, 'authorization'), 1);
    assert.equal(count(seen.rawHeaders, 'proxy-authorization'), 0);
    assert.equal(seen.headers.authorization, `Bearer ${openai.secret}`);
  });

  await t.test('a placeholder next to a foreign key is refused', async () => {
    const res = await send('/proxy/openai/v1/models', [
      'authorization', `Bearer ${openai.placeholder}`,
      'authorization', 'Bearer sk-foreign',
    ]); // prettier-ignore
    assert.equal(res.statusCode, 403);
    await res.body.text();
  });

  await t.test(
    'Connection-named, hop-by-hop and method-override headers never reach the upstream',
    async () => {
      // raw bytes: HTTP clients refuse to send such a Connection header
      const res = await rawHttp(
        bench.proxy.address.port,
        [
          'GET /proxy/openai/v1/models HTTP/1.1',
          'Host: 127.0.0.1',
          'Connection: close, authorization, x-drop-me',
          'x-drop-me: 1',
          'x-keep-me: 1',
          'X-HTTP-Method-Override: DELETE',
          'x-method-override: DELETE',
          'TE: trailers',
          'Keep-Alive: timeout=5',
        ].join('\r\n'),
      );
      assert.equal(res.status, 200);
      const seen = bench.upstream.requests.at(-1)!;
      assert.equal(
        seen.headers.authorization,
        `Bearer ${openai.secret}`,
        'naming authorization in Connection does not drop ours',
      );
      assert.equal(seen.headers['x-drop-me'], undefined);
      assert.equal(seen.headers['x-keep-me'], '1');
      assert.equal(seen.headers['x-http-method-override'], undefined);
      assert.equal(seen.headers['x-method-override'], undefined);
      assert.equal(seen.headers.te, undefined);
      assert.equal(seen.headers['keep-alive'], undefined);
      assert.equal(seen.method, 'GET');
    },
  );

  await t.test('the Anthropic SDK Bearer form is accepted and becomes x-api-key', async () => {
    const res = await send('/proxy/anthropic/v1/messages', [
      'authorization',
      `Bearer ${anthropic.placeholder}`,
    ]);
    assert.equal(res.statusCode, 200);
    await res.body.text();
    const seen = bench.upstream.requests.at(-1)!;
    assert.equal(seen.headers['x-api-key'], anthropic.secret);
    assert.equal(seen.headers.authorization, undefined);
  });

  await t.test('a credential query parameter is checked and removed', async () => {
    const bad = await send('/proxy/google/v1beta/models?key=AIzaSomeoneElse', []);
    assert.equal(bad.statusCode, 403);
    await bad.body.text();
    const ok = await send(`/proxy/google/v1beta/models?pageSize=5&KEY=${google.placeholder}`, []);
    assert.equal(ok.statusCode, 200);
    await ok.body.text();
    const seen = bench.upstream.requests.at(-1)!;
    assert.equal(seen.path, '/v1beta/models?pageSize=5');
    assert.equal(seen.headers['x-goog-api-key'], google.secret);
    assert.equal(bench.audit.intents.at(-1)?.query, 'pageSize=5');
  });
});

test("sandbox A's placeholder is refused by sandbox B's proxy", async (t) => {
  const a = await startBench(t, { services: ['openai'], sandboxId: 'sbx-a' });
  const b = await startBench(t, { services: ['openai'], sandboxId: 'sbx-b', ca: a.ca, upstream: a.upstream });
  const placeholderA = a.credentials.openai!.placeholder;
  const inA = await request(`${a.baseUrl}/proxy/openai/v1/models`, {
    headers: { authorization: `Bearer ${placeholderA}` },
  });
  assert.equal(inA.statusCode, 200);
  await inA.body.text();
  const inB = await request(`${b.baseUrl}/proxy/openai/v1/models`, {
    headers: { authorization: `Bearer ${placeholderA}` },
  });
  assert.equal(inB.statusCode, 403);
  await inB.body.text();
  assert.equal(a.upstream.requests.length, 1, 'only the request in A went out');
  assert.equal(a.upstream.requests[0]?.headers.authorization, `Bearer ${a.credentials.openai!.secret}`);
  assert.equal(b.audit.denials[0]?.sandboxId, 'sbx-b');
});
