import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigSchema } from '../src/config/index.js';
import { evaluate, pathGlob, proposeProfile, type SeenRequest } from '../src/policy/index.js';
import { forwardAllowed, policyWith } from './helpers/policy.js';

test('ids, hashes and numbers in paths become *; names stay literal', () => {
  const cases: [string, string][] = [
    ['/v1/chat/completions', '/v1/chat/completions'],
    ['/v1/files/file-AbC123def456', '/v1/files/*'],
    ['/v1/threads/thread_abc123/messages/msg_01XFDUDYJgAACzvnptvVoYEL', '/v1/threads/*/messages/*'],
    ['/repos/acme/app/issues/42', '/repos/acme/app/issues/*'],
    ['/repos/acme/app/commits/9fceb02d0ae598e95dc970b74767f19372d61af8', '/repos/acme/app/commits/*'],
    ['/v1/batches/0f8fad5b-d9cb-469f-a165-70867728950e', '/v1/batches/*'],
    ['/v1/models/gpt-4o-mini-2024-07-18', '/v1/models/gpt-4o-mini-2024-07-18'],
    ['/v1beta/models/gemini-2.5-flash:generateContent', '/v1beta/models/gemini-2.5-flash:generateContent'],
    ['/api/models/deadbeef', '/api/models/deadbeef'],
    ['/v1/files/', '/v1/files/'],
    ['/', '/'],
    ['/a/%2Fodd', '/a/*'],
  ];
  for (const [path, glob] of cases) assert.equal(pathGlob(path), glob, path);
});

const row = (
  method: string,
  path: string,
  service: string | null = 'openai',
  decision: string | null = 'allowed',
  host = 'api.openai.com',
  reason: string | null = null,
): SeenRequest => ({
  method,
  path,
  host,
  service,
  credential: service === 'openai' ? 'OPENAI_API_KEY' : service === 'github' ? 'GITHUB_TOKEN' : null,
  decision,
  reason,
});

const RECORDED: SeenRequest[] = [
  row('POST', '/v1/chat/completions'),
  row('POST', '/v1/chat/completions'),
  row('GET', '/v1/files/file-AbC123def456'),
  row('GET', '/v1/files/file-ZyX987wvu654'),
  row('DELETE', '/v1/files/file-ZyX987wvu654', 'openai', 'error'),
  row('GET', '/repos/acme/app/issues/42', 'github', 'allowed', 'api.github.com'),
  row('GET', '/repos/acme/app/issues/7', 'github', 'allowed', 'api.github.com'),
  row('CONNECT', '', null, 'allowed', 'pypi.org:443'),
  row('GET', '/simple/requests/', null, 'allowed', 'files.pythonhosted.org:443'),
  row('POST', '/v1/embeddings', 'openai', 'denied', 'api.openai.com', 'airlock_policy_denied'),
  row('GET', '/v1/models', 'openai', null), // still in flight: not evidence
];

test('a recording becomes the narrowest profile, with counts; applied, it allows the same and nothing else', () => {
  const p = proposeProfile(RECORDED, 'learned-agent');
  assert.deepEqual(
    p.rules.map((r) => [r.service, r.credential, r.rule, r.requests]),
    [
      ['github', 'GITHUB_TOKEN', 'GET /repos/acme/app/issues/*', 2],
      ['openai', 'OPENAI_API_KEY', 'DELETE /v1/files/*', 1],
      ['openai', 'OPENAI_API_KEY', 'GET /v1/files/*', 2],
      ['openai', 'OPENAI_API_KEY', 'POST /v1/chat/completions', 2],
    ],
  );
  assert.deepEqual(p.rules[2]!.examples, ['/v1/files/file-AbC123def456', '/v1/files/file-ZyX987wvu654']);
  assert.deepEqual(
    p.hosts.map((h) => [h.host, h.via, h.requests]),
    [
      ['api.github.com', 'service', 2],
      ['api.openai.com', 'service', 5],
      ['files.pythonhosted.org', 'forward', 1],
      ['pypi.org', 'forward', 1],
    ],
  );
  assert.deepEqual(p.refused, [
    {
      method: 'POST',
      host: 'api.openai.com',
      path: '/v1/embeddings',
      reason: 'airlock_policy_denied',
      requests: 1,
    },
  ]);

  // the proposal is a valid config, and with it the same requests pass and others do not
  const config = ConfigSchema.parse(p.config);
  const policy = policyWith({
    profiles: ['learned-agent'],
    customProfiles: config.profiles,
    credentials: ['OPENAI_API_KEY', 'GITHUB_TOKEN'],
  });
  for (const r of RECORDED.filter(
    (r) => r.service !== null && r.decision !== 'denied' && r.decision !== null,
  )) {
    const d = evaluate(policy, { kind: 'service', service: r.service!, method: r.method, target: r.path });
    assert.equal(d.allow, true, `${r.method} ${r.path}`);
  }
  assert.ok(forwardAllowed(policy, 'pypi.org'));
  assert.ok(forwardAllowed(policy, 'files.pythonhosted.org'));
  for (const [service, method, target] of [
    ['openai', 'POST', '/v1/embeddings'], // refused while recording
    ['openai', 'GET', '/v1/models'], // never finished
    ['openai', 'POST', '/v1/files'],
    ['openai', 'GET', '/v1/files/file-AbC123def456/content'],
    ['github', 'DELETE', '/repos/acme/app/issues/42'],
    ['github', 'GET', '/repos/acme/other/issues/1'],
  ] as const) {
    const d = evaluate(policy, { kind: 'service', service, method, target });
    assert.equal(d.allow, false, `${method} ${target}`);
  }
  assert.equal(forwardAllowed(policy, 'example.com'), false);
});

test('learn mode lifts endpoint rules and says so; the hosts still hold', () => {
  const strict = { credentials: ['OPENAI_API_KEY'], allowEndpoints: ['openai:POST:/v1/chat/completions'] };
  const request = { kind: 'service', service: 'openai', method: 'GET', target: '/v1/models' } as const;
  assert.equal(evaluate(policyWith(strict), request).allow, false, 'control: the rule refuses it');
  const learning = policyWith({ ...strict, learn: true });
  assert.equal(evaluate(learning, request).allow, true);
  assert.match(learning.warnings.join('\n'), /learn mode: endpoint rules are not enforced/);
  assert.equal(forwardAllowed(learning, 'example.com'), false);
});
