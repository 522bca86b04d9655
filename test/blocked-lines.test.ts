import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { blockedLines, summaryLine } from '../src/cli/blocked-lines.js';
import { runCli } from './helpers/cli.js';
import { needsRoot, tempHome } from './helpers/sandbox-bench.js';

function capture() {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (b: Buffer) => (text += b.toString()));
  return { stream, text: () => text };
}

const refusal = (path: string) => ({
  method: 'GET',
  host: 'api.openai.com',
  path,
  status: 403,
  code: 'AIRLOCK_ERR_POLICY_DENIED' as const,
  message: 'not in the endpoint rules for openai',
});

test('a few blocked lines a second, then a count', () => {
  const out = capture();
  let now = 10_000;
  const lines = blockedLines(
    out.stream,
    () => 'agent',
    () => now,
  );
  for (let i = 0; i < 20; i++) lines.listener(refusal(`/v1/${i}`));
  now += 1000; // the next second: the count first, then lines again
  lines.listener(refusal('/v1/later'));
  lines.listener(refusal('/v1/last'));
  lines.close();
  assert.deepEqual(out.text().trimEnd().split('\n'), [
    ...[0, 1, 2, 3, 4].map(
      (i) =>
        `airlock: blocked GET api.openai.com/v1/${i} — not in the endpoint rules for openai [airlock_policy_denied]`,
    ),
    'airlock: … 15 more blocked (airlock audit --sandbox agent)',
    'airlock: blocked GET api.openai.com/v1/later — not in the endpoint rules for openai [airlock_policy_denied]',
    'airlock: blocked GET api.openai.com/v1/last — not in the endpoint rules for openai [airlock_policy_denied]',
  ]);
});

test('the summary line: nothing when the guest never used the proxy', () => {
  const none = { requests: 0, denied: 0, errors: 0, inFlight: 0, inputTokens: 0, outputTokens: 0 };
  assert.equal(summaryLine(none, 'x'), '');
  assert.equal(
    summaryLine({ ...none, requests: 3, denied: 1, inputTokens: 1200, outputTokens: 34 }, 'x'),
    'airlock: 3 requests, 1 denied, 1,234 tokens (airlock audit --sandbox x)\n',
  );
});

const GUEST = `for (const p of ['/proxy/openai/v1/models', '/nope']) {
  const r = await fetch(process.env.AIRLOCK_PROXY_URL + p);
  console.log(p, r.status);
}`;

test(
  'airlock run shows each blocked request on stderr as it happens, and a summary; --quiet shows none',
  { skip: needsRoot },
  async (t) => {
    const env = { AIRLOCK_HOME: tempHome(t) };
    const script = ['node', '--input-type=module', '-e', GUEST];
    const r = await runCli(['run', '--no-workdir', '--name', 'blk', '--', ...script], env);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '/proxy/openai/v1/models 403\n/nope 404\n', "the guest's stdout is its own");
    assert.deepEqual(r.stderr.trimEnd().split('\n'), [
      'airlock: blocked GET /v1/models — service "openai": no credential for it was granted to this sandbox (no profile (credentials only)) [airlock_policy_denied]',
      'airlock: blocked GET /nope — no such route; use the base-URL variables airlock set (/proxy/<service>/…) [airlock_unknown_service]',
      'airlock: 2 requests, 2 denied (airlock audit --sandbox blk)',
    ]);

    const quiet = await runCli(['run', '--no-workdir', '--quiet', '--', ...script], env);
    assert.equal(quiet.status, 0);
    assert.equal(quiet.stdout, r.stdout);
    assert.equal(quiet.stderr, '');
  },
);
