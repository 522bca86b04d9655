import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli } from './helpers/cli.js';
import { respond } from './helpers/fake-upstream.js';
import { canarySecret } from './helpers/proxy-bench.js';
import { needsRoot } from './helpers/sandbox-bench.js';
import { sandboxUpstream } from './helpers/sandbox-upstream.js';

test(
  'llm-only + one allowed endpoint: the chat call passes, GET /v1/models is a 403 that says why',
  { skip: needsRoot },
  async (t) => {
    const { upstream, home, config } = await sandboxUpstream(
      t,
      ['api.openai.com'],
      respond.json(200, { id: 'chatcmpl-1', object: 'chat.completion', choices: [] }),
    );
    const secret = canarySecret('openai');
    const script = [
      'curl -sS -X POST -H "Authorization: Bearer $OPENAI_API_KEY" -H "content-type: application/json" \\',
      '  -d "{\\"model\\":\\"m\\",\\"messages\\":[]}" -w " %{http_code}\\n" "$OPENAI_BASE_URL/chat/completions"',
      'curl -sS -H "Authorization: Bearer $OPENAI_API_KEY" -w " %{http_code}\\n" "$OPENAI_BASE_URL/models"',
    ].join('\n');
    const run = await runCli(
    ['run', '--config', config, '--profile', 'llm-only', '--cred', 'OPENAI_API_KEY',
     '--allow-endpoint', 'openai:POST:/v1/chat/completions', '--', 'sh', '-c', script],
    { AIRLOCK_HOME: home, OPENAI_API_KEY: secret },
  ); // prettier-ignore
    assert.equal(run.status, 0, run.stderr);
    const [chat, models] = run.stdout.trim().split('\n');
    assert.match(chat!, /chatcmpl-1.* 200$/);
    assert.match(models!, / 403$/);
    const denial = JSON.parse(models!.replace(/ 403$/, '')) as { error: { type: string; message: string } };
    assert.equal(denial.error.type, 'airlock_policy_denied');
    assert.match(denial.error.message, /openai/);
    assert.match(denial.error.message, /GET \/v1\/models/);
    assert.match(denial.error.message, /llm-only/);
    assert.deepEqual(
      upstream.requests.map((r) => `${r.method} ${r.path}`),
      ['POST /v1/chat/completions'],
      'the upstream saw the allowed call only',
    );
    assert.equal(upstream.requests[0]!.headers.authorization, `Bearer ${secret}`);
  },
);
