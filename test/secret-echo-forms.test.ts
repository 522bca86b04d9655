import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { request } from 'undici';
import type { Service } from '../src/catalogue/service.js';
import { builtin, startBench } from './helpers/proxy-bench.js';

/*
 * A hostile upstream echoes the key it received in every form the proxy put it on the wire
 * in — raw, Basic base64(user:secret), percent- and form-encoded — each also with JSON
 * escapes (`\/`, `\uXXXX`), in header names and values and in the body, split across chunks
 * and gzip-compressed. The guest must see the placeholder's forms only.
 */

const USER = 'x-access-token';
const b64 = (value: string) => Buffer.from(`${USER}:${value}`).toString('base64');
const form = (value: string) => new URLSearchParams({ v: value }).toString().slice(2);
/** every character as \uXXXX, as some JSON encoders write it */
const uEscape = (value: string) =>
  [...value].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');
/** `/` as `\/`, as PHP's json_encode writes it */
const slashEscape = (value: string) => value.replaceAll('/', '\\/');

/** The forms of one key the proxy emits (base64(user:key) only for the Basic carrier). */
const formsOf = (key: string, basic: boolean) => [
  key,
  ...(basic ? [b64(key)] : []),
  encodeURIComponent(key),
  form(key),
];

/**
 * A canary secret with `/`, `+`, `=`, `&`, `?` and a space, so every encoding differs from the
 * raw key. Its tail `~?~?~?` puts a `~` and a `?` at a third byte of some base64 group
 * whatever the offset, so base64(user:secret) has a `+` and a `/` (escaped differently).
 */
const awkwardSecret = (label: string) => `real/${label}+CANARY=${randomBytes(6).toString('hex')}&x y~?~?~?`;

const custom = (name: string, carrier: Service['carrier']): Service => ({
  ...builtin('openai'),
  name,
  envVar: `${name.toUpperCase()}_TOKEN`,
  upstream: `https://${name}.example.test`,
  hosts: [`${name}.example.test`],
  carrier,
  credentialHeaders: ['authorization'],
  credentialParams: [],
});

/** The key the upstream received: from Basic auth, the `api_key` parameter or a Bearer header. */
function receivedKey(req: IncomingMessage): string {
  const auth = req.headers.authorization ?? '';
  if (auth.startsWith('Basic '))
    return Buffer.from(auth.slice(6), 'base64')
      .toString()
      .slice(USER.length + 1);
  if (auth.startsWith('Bearer ')) return auth.slice(7);
  return new URL(req.url ?? '/', 'https://x').searchParams.get('api_key') ?? '';
}

/** Echoes every form of the key, spelt every way, as `?mode=` says: in chunks of 7 bytes, or gzipped. */
async function echoEverything(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const key = receivedKey(req);
  const forms = formsOf(key, true); // the echo tries them all
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-echo-auth': `Basic ${b64(key)}`,
    'x-echo-url': `/v1/items?api_key=${encodeURIComponent(key)}`,
    'x-echo-forms': forms.join(' | '),
  };
  if (/^[A-Za-z0-9-]+$/.test(key)) headers[`X-Echo-${key}`] = 'the key in a header name';
  const body = Buffer.from(
    JSON.stringify({ forms }).replace(/}$/, '') +
      `,"slashes":"${forms.map(slashEscape).join(' ')}","unicode":"${forms.map(uEscape).join(' ')}"}`,
  );
  const mode = new URL(req.url ?? '/', 'https://x').searchParams.get('mode');
  if (mode === 'gzip') {
    res.writeHead(200, { ...headers, 'content-encoding': 'gzip' });
    res.end(gzipSync(body));
    return;
  }
  res.writeHead(200, headers);
  for (let i = 0; i < body.length; i += 7) {
    res.write(body.subarray(i, i + 7));
    await new Promise((r) => setImmediate(r));
  }
  res.end();
}

/** Undoes JSON escapes (`\/`, `\uXXXX`), so a form spelt with them is found as itself. */
const unescape = (text: string) =>
  text
    .replaceAll('\\/', '/')
    .replace(/\\u([0-9a-fA-F]{4})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));

test('with basic, query and header carriers, an upstream echo of every form reaches the guest as the placeholder', async (t) => {
  const services = [
    custom('basic', { kind: 'basic', username: USER }),
    custom('query', { kind: 'query', param: 'api_key' }),
    custom('plain', { kind: 'header', header: 'authorization', template: 'Bearer {secret}' }),
  ];
  const bench = await startBench(t, {
    services,
    handler: echoEverything,
    secrets: {
      basic: awkwardSecret('basic'),
      query: awkwardSecret('query'),
      plain: `real-Plain-CANARY-${randomBytes(8).toString('hex')}`,
    },
  });
  const calls: [service: string, init: Parameters<typeof request>[1]][] = [
    ['basic', { headers: { authorization: `Basic ${b64(bench.cred('basic').placeholder)}` } }],
    ['query', {}],
    ['plain', { headers: { authorization: `Bearer ${bench.cred('plain').placeholder}` } }],
  ];
  for (const [service, init] of calls) {
    for (const mode of ['chunks', 'gzip']) {
      const { secret, placeholder } = bench.cred(service);
      const query = service === 'query' ? `&api_key=${encodeURIComponent(placeholder)}` : '';
      const res = await request(`${bench.baseUrl}/proxy/${service}/v1/items?mode=${mode}${query}`, init);
      const body = await res.body.text();
      assert.equal(res.statusCode, 200, body);
      const seen = `${JSON.stringify(res.headers)}\n${body}`;
      const where = `${service} ${mode}`;
      for (const text of [seen, unescape(seen), JSON.stringify(JSON.parse(body))]) {
        for (const f of formsOf(secret, service === 'basic')) {
          assert.ok(
            !text.includes(f) && !text.toLowerCase().includes(f.toLowerCase()),
            `${where}: a form of the key leaked: ${f}`,
          );
        }
      }
      // positive control: the echo is there, as the placeholder's forms
      for (const f of formsOf(placeholder, service === 'basic'))
        assert.ok(unescape(seen).includes(f), `${where}: ${f} shown instead`);
      if (service === 'plain')
        assert.ok(`x-echo-${placeholder.toLowerCase()}` in res.headers, `${where}: header name`);
      // the upstream still got the real key
      const got = bench.upstream.requests.at(-1)!;
      if (service === 'basic') assert.equal(got.headers.authorization, `Basic ${b64(secret)}`);
      if (service === 'query')
        assert.ok(got.path.endsWith(`api_key=${encodeURIComponent(secret)}`), got.path);
      if (service === 'plain') assert.equal(got.headers.authorization, `Bearer ${secret}`);
    }
  }
});
