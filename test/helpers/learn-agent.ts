import type { TestContext } from 'node:test';
import type { Proposal } from '../../src/policy/index.js';
import { builtin } from './proxy-bench.js';
import { sandboxUpstream, type SandboxUpstream } from './sandbox-upstream.js';

/** A fake OpenAI answering every call of the learn agent (test/fixtures/sdk/learn-agent.mjs) with 200. */
export function learnUpstream(t: TestContext): Promise<SandboxUpstream> {
  return sandboxUpstream(t, builtin('openai').hosts, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"id":"x","object":"list","data":[],"choices":[]}');
  });
}

/** `[credential, rule, requests]` that `airlock learn` proposes for the learn agent's `agent` calls. */
export const LEARNED_AGENT_RULES = [
  ['OPENAI_API_KEY', 'GET /v1/batches/*', 1],
  ['OPENAI_API_KEY', 'GET /v1/files/*', 2],
  ['OPENAI_API_KEY', 'GET /v1/models', 1],
  ['OPENAI_API_KEY', 'POST /v1/chat/completions', 1],
];

/** The proposal's rules in the shape of LEARNED_AGENT_RULES. */
export function learnedRules(proposal: Proposal): unknown[] {
  return proposal.rules.map((r) => [r.credential, r.rule, r.requests]);
}

const curl = (method: string, path: string) =>
  `curl -s -o /dev/null -w '%{http_code} ' -X ${method} -H "authorization: Bearer $OPENAI_API_KEY" ` +
  `${method === 'POST' ? `-H 'content-type: application/json' -d '{"model":"gpt-test","messages":[]}' ` : ''}` +
  `"$OPENAI_BASE_URL${path}"`;

/**
 * The learn agent's calls made with curl, for guests that see no host folder (a daemon's):
 * `agent` the same requests as the SDK agent's, `extra` the one it never made. Each prints its
 * status and a space.
 */
export const AGENT_CURLS = {
  agent: [
    curl('POST', '/chat/completions'),
    curl('GET', '/files/file-AbC123def456'),
    curl('GET', '/files/file-ZyX987wvu654'),
    curl('GET', '/batches/batch_0123abcd'),
    curl('GET', '/models'),
  ].join('; '),
  extra: curl('POST', '/embeddings'),
};
