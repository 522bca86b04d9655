import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { request } from 'undici';
import type { UpstreamHandler } from './helpers/fake-upstream.js';
import { respond } from './helpers/fake-upstream.js';
import { startBench } from './helpers/proxy-bench.js';

/** The key the upstream received, as a hostile or careless upstream would echo it. */
const keyOf = (headers: Record<string, unknown>) => String(headers.authorization).replace(/^Bearer /, '');

const echoes: Record<string, UpstreamHandler> = {
  'response headers': (req, res) => {
    const key = keyOf(req.headers);
    res.writeHead(200, {
      'x-echo': `you sent ${key}`,
      'set-cookie': [`a=${key}`, 'b=1'],
      'content-type': 'text/plain',
    });
    res.end('ok');
  },
  'JSON body': respond.echo(),
  'error body': (req, res) => {
    res.writeHead(401, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { message: `Incorrect API key provided: ${keyOf(req.headers)}` } }));
  },
  'body split across chunks': (req, res, rec) => {
    const key = keyOf(req.headers);
    const cuts = [3, 9, key.length - 1];
    return respond.chunks([`start ${key.slice(0, cuts[0])}`, key.slice(cuts[0], cuts[1]), key.slice(cuts[1], cuts[2]), `${key.slice(cuts[2])} end`])(req, res, rec); // prettier-ignore
  },
  'gzip body the proxy did not ask for': (req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': 'gzip' });
    res.end(gzipSync(`secret=${keyOf(req.headers)}`));
  },
};

test('a secret echoed by the upstream reaches the guest as the placeholder', async (t) => {
  const bench = await startBench(t, { services: ['openai'] });
  const { secret, placeholder } = bench.credentials.openai!;
  for (const [name, handler] of Object.entries(echoes)) {
    await t.test(name, async () => {
      bench.upstream.setHandler(handler);
      const res = await request(`${bench.baseUrl}/proxy/openai/v1/x`, {
        headers: { authorization: `Bearer ${placeholder}` },
      });
      const body = await res.body.text();
      const everything = `${JSON.stringify(res.headers)}\n${body}`;
      assert.ok(!everything.includes(secret), `secret leaked: ${everything}`);
      assert.ok(everything.includes(placeholder), 'the echo shows the placeholder instead');
      assert.equal(res.headers['content-encoding'], undefined, 'the guest gets the decoded body');
      assert.equal(bench.upstream.requests.at(-1)?.headers.authorization, `Bearer ${secret}`);
    });
  }
});
