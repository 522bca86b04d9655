import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rawRequest, startPolicyBench } from './helpers/policy-proxy.js';
import { exchange } from './helpers/raw-client.js';

/**
 * The path corpus of issue 5 through the real proxy listener: each request is written byte for
 * byte on a raw TCP socket (nothing normalizes it first), decided by the real policy, and the
 * fake upstream records what actually arrived. A rule allows only `POST /v1/chat/completions`.
 */

const ALLOWED = '/v1/chat/completions';
const P = '/proxy/openai';

/**
 * [request target as sent, method, expected]: `allow` = forwarded, and the upstream receives
 * exactly `target` (the canonical form the policy checked); a number = refused with that status
 * and nothing forwarded. 400 = malformed (refused before any rule is looked at), 403 = well-formed
 * but not allowed, 404 = no such service (the policy's own answer for an unknown service name).
 */
type Expect = { allow: string } | 400 | 403 | 404;
const CORPUS: [target: string, method: string, expected: Expect][] = [
  // the allowed endpoint itself, in forms that normalize to it: forwarded as the canonical path
  [`${P}${ALLOWED}`, 'POST', { allow: ALLOWED }],
  [`${P}/v1/chat/%63ompletions`, 'POST', { allow: ALLOWED }],
  [`${P}/%76%31/chat/completions`, 'POST', { allow: ALLOWED }],
  [`${P}${ALLOWED}?stream=true`, 'POST', { allow: `${ALLOWED}?stream=true` }],
  [`${P}${ALLOWED}?x=/../files&y=%2F`, 'POST', { allow: `${ALLOWED}?x=/../files&y=%2F` }],
  // an empty query is still the target that was checked (found by the property test)
  [`${P}${ALLOWED}?`, 'POST', { allow: `${ALLOWED}?` }],
  // dot segments, raw
  [`${P}/v1/files/../chat/completions`, 'POST', 400],
  [`${P}${ALLOWED}/../../files`, 'POST', 400],
  [`${P}/v1/chat/./completions`, 'POST', 400],
  [`${P}/v1/../v1/chat/completions`, 'POST', 400],
  [`${P}/../../v1/files`, 'POST', 400],
  [`${P}${ALLOWED}/..`, 'POST', 400],
  [`${P}${ALLOWED}/.`, 'POST', 400],
  [`${P}/../openai/v1/chat/completions`, 'POST', 400],
  // dot segments, percent-encoded (any case, any mix) and double-encoded
  [`${P}/v1/files/%2e%2e/chat/completions`, 'POST', 400],
  [`${P}/v1/files/%2E%2E/chat/completions`, 'POST', 400],
  [`${P}/v1/files/.%2e/chat/completions`, 'POST', 400],
  [`${P}/v1/files/%2e./chat/completions`, 'POST', 400],
  [`${P}/v1/chat/%2e/completions`, 'POST', 400],
  [`${P}/v1/files/%252e%252e/chat/completions`, 'POST', 400],
  [`${P}/v1/files/%252E%252E/chat/completions`, 'POST', 400],
  [`${P}/v1/files/%2e%2e%2fchat/completions`, 'POST', 400],
  // encoded separators
  [`${P}/v1/chat%2Fcompletions`, 'POST', 400],
  [`${P}/v1/chat%2fcompletions`, 'POST', 400],
  [`${P}/v1%2Fchat%2Fcompletions`, 'POST', 400],
  [`${P}%2Fv1/chat/completions`, 'POST', 404],
  [`${P}/v1/chat/completions%252F..%252Ffiles`, 'POST', 400],
  [`${P}/v1/chat%5Ccompletions`, 'POST', 400],
  [`${P}/v1/chat%5ccompletions`, 'POST', 400],
  [`${P}/v1/files%5C..%5Cchat/completions`, 'POST', 400],
  // raw backslashes
  [`${P}/v1\\chat\\completions`, 'POST', 400],
  [`${P}/v1/files\\..\\chat/completions`, 'POST', 400],
  [`${P}${ALLOWED}\\`, 'POST', 400],
  // empty segments
  [`${P}//v1/files`, 'POST', 400],
  [`${P}//v1/chat/completions`, 'POST', 400],
  [`${P}/v1//chat/completions`, 'POST', 400],
  [`${P}${ALLOWED}//`, 'POST', 400],
  // path parameters
  [`${P}${ALLOWED};x=y`, 'POST', 400],
  [`${P}/v1;x=y/chat/completions`, 'POST', 400],
  [`${P}/v1/chat;/completions`, 'POST', 400],
  [`${P}/v1/files;/../chat/completions`, 'POST', 400],
  // NUL and other encoded controls
  [`${P}${ALLOWED}%00`, 'POST', 400],
  [`${P}${ALLOWED}%00.json`, 'POST', 400],
  [`${P}/v1/files%00/../chat/completions`, 'POST', 400],
  [`${P}${ALLOWED}%0d%0aX-Injected:%201`, 'POST', 400],
  [`${P}${ALLOWED}%09`, 'POST', 400],
  // fragments
  [`${P}${ALLOWED}#frag`, 'POST', 400],
  [`${P}/v1/files#/../chat/completions`, 'POST', 400],
  [`${P}${ALLOWED}?#`, 'POST', 400],
  [`${P}${ALLOWED}%23frag`, 'POST', 403],
  // query tricks: the path is what is checked, the query never stands in for it
  [`${P}/v1/files?/v1/chat/completions`, 'POST', 403],
  [`${P}/v1/files?x=/../chat/completions`, 'POST', 403],
  [`${P}?/v1/chat/completions`, 'POST', 403],
  [`${P}/v1/chat?/completions`, 'POST', 403],
  [`${P}${ALLOWED}%3Fx=1`, 'POST', 403],
  [`${P}${ALLOWED}?x=%zz`, 'POST', 400],
  [`${P}${ALLOWED}?x=%`, 'POST', 400],
  // case variants: literals compare case-sensitively
  [`${P}/V1/chat/completions`, 'POST', 403],
  [`${P}/v1/Chat/completions`, 'POST', 403],
  [`${P}/v1/chat/COMPLETIONS`, 'POST', 403],
  [`${P}/v1/chat/%43ompletions`, 'POST', 403],
  // trailing slash, suffixes, prefixes
  [`${P}${ALLOWED}/`, 'POST', 403],
  [`${P}${ALLOWED}.`, 'POST', 403],
  [`${P}${ALLOWED}...`, 'POST', 403],
  [`${P}${ALLOWED}%20`, 'POST', 403],
  [`${P}${ALLOWED}/x`, 'POST', 403],
  [`${P}/v1/chat`, 'POST', 403],
  [`${P}/v1/files`, 'POST', 403],
  [`${P}/v1/models`, 'GET', 403],
  [`${P}`, 'POST', 403],
  [`${P}/`, 'POST', 403],
  // overlong and look-alike UTF-8, raw non-ASCII, invalid escapes
  [`${P}/v1/files/%c0%ae%c0%ae/chat/completions`, 'POST', 400],
  [`${P}/v1/files/%e0%80%ae%e0%80%ae/chat/completions`, 'POST', 400],
  [`${P}/v1/files/..%c0%afchat/completions`, 'POST', 400],
  [`${P}/v1/files%c0%af..%c0%afchat/completions`, 'POST', 400],
  [`${P}/v1/files/%ef%bc%8e%ef%bc%8e/chat/completions`, 'POST', 400],
  [`${P}/v1/chat%ef%bc%8fcompletions`, 'POST', 400],
  [`${P}/v1/files/%u002e%u002e/chat/completions`, 'POST', 400],
  [`${P}/v1/chat/compl\u00c3\u00a9tions`, 'POST', 400],
  [`${P}${ALLOWED}%`, 'POST', 400],
  // the method is the exact token
  [`${P}${ALLOWED}`, 'GET', 403],
  [`${P}${ALLOWED}`, 'PUT', 403],
  [`${P}${ALLOWED}`, 'OPTIONS', 403],
  [`${P}${ALLOWED}`, 'TRACE', 403],
  // the service name: never decoded, never resolved
  [`/proxy/../proxy/openai${ALLOWED}`, 'POST', 404],
  [`/proxy/%6fpenai${ALLOWED}`, 'POST', 404],
  [`/proxy/OPENAI${ALLOWED}`, 'POST', 404],
  [`/proxy/openai;x=y${ALLOWED}`, 'POST', 404],
  [`/proxy/openai#${ALLOWED}`, 'POST', 404],
  [`/proxy//openai${ALLOWED}`, 'POST', 404],
  [`/PROXY/openai${ALLOWED}`, 'POST', 404],
  [`//proxy/openai${ALLOWED}`, 'POST', 404],
  // non-origin-form targets never reach the reverse route
  ['http://127.0.0.1/proxy/openai/v1/chat/completions', 'POST', 403],
  ['http://api.openai.com/v1/chat/completions', 'POST', 400],
  ['https://api.openai.com/v1/chat/completions', 'POST', 400],
  ['api.openai.com:443', 'POST', 400],
  ['*', 'OPTIONS', 400],
  ['*', 'POST', 400],
];

test('path corpus through the real proxy: only the allowed endpoint reaches the upstream, as checked', async (t) => {
  const bench = await startPolicyBench(
    t,
    { credentials: ['OPENAI_API_KEY'], allowEndpoints: ['openai:POST:/v1/chat/completions'] },
    // every refusal answered as itself: the rate limits have tests of their own
    { deps: { limits: { requestsPerSecond: 0, refusalsPerSecond: 0 } } },
  );
  const port = bench.proxy.address.port;

  // positive control: the plain allowed request arrives with exactly that path and the real key
  const control = await exchange(
    port,
    rawRequest('POST', `${P}${ALLOWED}`, ['Content-Length: 2', 'Connection: close']) + '{}',
  );
  assert.equal(control.responses[0]?.status, 200, control.raw);
  assert.equal(bench.upstream.requests.length, 1);
  assert.equal(bench.upstream.requests[0]?.method, 'POST');
  assert.equal(bench.upstream.requests[0]?.path, ALLOWED);
  assert.equal(bench.upstream.requests[0]?.headers.authorization, `Bearer ${bench.cred('openai').secret}`);

  let forwarded = 0;
  for (const [target, method, expected] of CORPUS) {
    const label = `${method} ${JSON.stringify(target)}`;
    const before = bench.upstream.requests.length;
    const { responses, raw } = await exchange(
      port,
      rawRequest(method, target, ['Content-Length: 0', 'Connection: close']),
    );
    assert.equal(responses.length, 1, `${label}: one response, got ${JSON.stringify(raw)}`);
    const res = responses[0]!;
    const seen = bench.upstream.requests.slice(before);
    if (typeof expected === 'object') {
      assert.equal(res.status, 200, `${label}: ${res.body}`);
      assert.equal(seen.length, 1, `${label}: forwarded once`);
      assert.equal(seen[0]?.method, method, label);
      assert.equal(seen[0]?.path, expected.allow, `${label}: the upstream got the canonical target`);
      forwarded++;
    } else {
      assert.equal(res.status, expected, `${label}: ${res.body}`);
      assert.deepEqual(
        seen.map((r) => `${r.method} ${r.path}`),
        [],
        `${label}: the upstream saw nothing`,
      );
      // a refusal the proxy made itself says what kind it is (the HTTP parser's own 400s come first)
      if (res.body.startsWith('{"error":{')) {
        const body = JSON.parse(res.body) as { error: { type: string; message: string } };
        assert.match(body.error.type, /^airlock_/, label);
      }
    }
  }
  assert.equal(forwarded, CORPUS.filter(([, , e]) => typeof e === 'object').length);
  // over the whole run, the upstream never received any path but the allowed one
  for (const r of bench.upstream.requests) {
    assert.equal(r.path.split('?')[0], ALLOWED, `the upstream received ${r.method} ${r.path}`);
    assert.equal(r.method, 'POST');
  }
  assert.equal(bench.upstream.requests.length, 1 + forwarded);
});
