import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { leftovers } from './helpers/fake-internet.js';
import { needsRoot, tempHome } from './helpers/sandbox-bench.js';

const DEMO = fileURLToPath(new URL('../scripts/demo.sh', import.meta.url));

test(
  'the README’s demo command works as written and leaves nothing behind',
  { skip: needsRoot },
  async (t) => {
    const child = spawn('bash', [DEMO], {
      env: { ...process.env, AIRLOCK_HOME: tempHome(t) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(status, 0, err + out);
    assert.match(out, /^OPENAI_API_KEY=sk-airlock-[A-Za-z0-9]{48}$/m, 'the guest holds a placeholder');
    assert.doesNotMatch(out, /sk-demo-/, 'never the key itself');
    assert.match(out, /"type":"airlock_policy_denied".*GET \/v1\/models refused for service \\"openai\\"/);
    assert.match(out, /\(blocked: exit 6\)/);
    assert.match(out, /openai\s+denied\s+403\s+GET\s+api\.openai\.com\s+\/v1\/models/);
    assert.match(out, /1 request · 1 denied/);
    assert.deepEqual(await leftovers(), { netns: [], links: [], elements: 0, cgroups: [] });
  },
);
