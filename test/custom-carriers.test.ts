import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from 'undici';
import type { Service } from '../src/catalogue/service.js';
import { respond } from './helpers/fake-upstream.js';
import { builtin, startBench } from './helpers/proxy-bench.js';

/** A custom service on a fake host with a base path, as the config file would declare one. */
const custom = (name: string, carrier: Service['carrier']): Service => ({
  ...builtin('openai'),
  name,
  envVar: `${name.toUpperCase()}_TOKEN`,
  upstream: `https://${name}.example.test/base`,
  hosts: [`${name}.example.test`],
  carrier,
  credentialHeaders: ['authorization'],
  credentialParams: [],
});

test('HTTP Basic and query-parameter carriers get the real credential', async (t) => {
  const services = [
    custom('basic', { kind: 'basic', username: 'x-access-token' }),
    custom('query', { kind: 'query', param: 'api_key' }),
  ];
  const bench = await startBench(t, { services, handler: respond.echo() });
  const basic = bench.cred('basic');
  const query = bench.cred('query');

  const b = await request(`${bench.baseUrl}/proxy/basic/repo.git/info/refs?service=git-upload-pack`, {
    headers: {
      authorization: `Basic ${Buffer.from(`x-access-token:${basic.placeholder}`).toString('base64')}`,
    },
  });
  assert.equal(b.statusCode, 200);
  await b.body.text();
  let seen = bench.upstream.requests.at(-1)!;
  assert.equal(seen.path, '/base/repo.git/info/refs?service=git-upload-pack');
  assert.equal(
    seen.headers.authorization,
    `Basic ${Buffer.from(`x-access-token:${basic.secret}`).toString('base64')}`,
  );

  const q = await request(`${bench.baseUrl}/proxy/query/v1/items?api_key=${query.placeholder}&n=1`);
  assert.equal(q.statusCode, 200);
  const body = await q.body.text();
  seen = bench.upstream.requests.at(-1)!;
  assert.equal(seen.path, `/base/v1/items?n=1&api_key=${query.secret}`);
  assert.ok(!body.includes(query.secret), 'the echoed URL shows the placeholder');
  assert.equal(bench.audit.intents.at(-1)?.query, 'n=1', 'the audit never sees the injected key');
});
