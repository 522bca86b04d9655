import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { evaluate, normalizeTarget, type GlobSegment } from '../src/policy/index.js';
import { policyWith } from './helpers/policy.js';

const RULES = [
  'openai:POST:/v1/chat/completions',
  'openai:GET:/v1/models/*',
  'openai:GET:/v1/files/**',
  'openai:PUT:/v1/*/x/',
  'openai:DELETE:/v1/**/content',
];
const policy = policyWith({ credentials: ['OPENAI_API_KEY'], allowEndpoints: RULES });
const rules = policy.services.get('openai')!.rules;

/** Pieces that exercise every normalization rule, glued into segments. */
const PIECES = [
  'v1',
  'chat',
  'completions',
  'models',
  'files',
  'x',
  'content',
  'Chat',
  'gpt-4o',
  'a:b',
  '@',
  '!',
  '.',
  '..',
  '%2e',
  '%2E',
  '.%2e',
  '%2f',
  '%2F',
  '%5c',
  '%5C',
  '%25',
  '%252e',
  '%00',
  '%0a',
  '%7f',
  '%41',
  '%7e',
  '~',
  '%3f',
  '%23',
  '%3b',
  ';',
  '\\',
  '%c0%ae',
  '%e0%80%ae',
  '%c3%a9',
  '%ef%bc%8e',
  '%ef%bc%8f',
  '%c3',
  '%',
  '%g1',
  ' ',
  '#',
  '*',
  '%20',
  'é',
  '+',
  '=',
];
const CLEAN = ['v1', 'chat', 'completions', 'models', 'files', 'x', 'content', 'gpt-4o'];
const tricky = fc.array(fc.constantFrom(...PIECES), { minLength: 0, maxLength: 3 }).map((p) => p.join(''));
// mostly real segments, so that many paths are accepted and both decisions occur
const segment = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...CLEAN) },
  { weight: 2, arbitrary: tricky },
);
/** Paths near the rules: a rule-shaped path with some segments swapped for generated ones. */
const TEMPLATES = [
  ['v1', 'chat', 'completions'],
  ['v1', 'models', 'gpt-4o'],
  ['v1', 'files', 'a', 'b'],
  ['v1', 'files'],
  ['v1', 'chat', 'x', ''],
  ['v1', 'a', 'b', 'content'],
];
const nearRule = fc
  .tuple(fc.constantFrom(...TEMPLATES), fc.array(fc.tuple(fc.nat(5), segment), { maxLength: 2 }))
  .map(([t, swaps]) => {
    const segs = [...t];
    for (const [i, s] of swaps) if (i < segs.length) segs[i] = s;
    return segs;
  });
const rawTarget = fc
  .tuple(
    fc.oneof(nearRule, fc.array(segment, { minLength: 1, maxLength: 6 })),
    fc.option(fc.constantFrom('', 'a=1', 'x=/../v1', 'q=%zz', 'b c', 'k=%2F'), { nil: undefined, freq: 3 }),
    fc.constantFrom('/', '/', '/', '/', '', '//'),
  )
  .map(([segs, query, lead]) => `${lead}${segs.join('/')}${query === undefined ? '' : `?${query}`}`);
const method = fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'get', 'PATCH');

/** The naive reference: decode each segment with decodeURIComponent, match a regex. */
function referenceDecodedPath(raw: string): string[] | null {
  const path = raw.split('?')[0]!;
  try {
    return path
      .slice(1)
      .split('/')
      .map((s) => decodeURIComponent(s));
  } catch {
    return null;
  }
}
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
function globRegex(segments: GlobSegment[]): RegExp {
  const body = segments
    .map((g) => (g.kind === 'one' ? '/[^/]+' : g.kind === 'any' ? '(?:/.*)?' : `/${escape(g.value)}`))
    .join('');
  return new RegExp(`^${body}$`, 's');
}
const REGEXES = rules.map((r) => ({ method: r.method, re: globRegex(r.segments) }));

test('property: normalization is idempotent, safe, and agrees with a reference matcher (100,000 paths)', () => {
  let accepted = 0;
  let allowed = 0;
  fc.assert(
    fc.property(rawTarget, method, (raw, m) => {
      const n = normalizeTarget(raw);
      const decision = evaluate(policy, { kind: 'service', service: 'openai', method: m, target: raw });
      const decoded = referenceDecodedPath(raw);
      // anything that decodes to a dot segment or a separator is never accepted
      if (decoded?.some((s) => s === '.' || s === '..' || s.includes('/') || s.includes('\\'))) {
        assert.equal(n.ok, false);
      }
      if (!n.ok) {
        assert.equal(decision.allow, false);
        if (!decision.allow) assert.equal(decision.code, 'AIRLOCK_ERR_BAD_REQUEST');
        return;
      }
      accepted++;
      // idempotent
      assert.deepEqual(normalizeTarget(n.target), n);
      // the accepted, canonical path holds no dot segments, empty segments or encoded separators
      assert.doesNotMatch(n.path, /%(2f|5c|25|00)/i);
      assert.ok(!n.path.slice(1).split('/').slice(0, -1).includes(''));
      assert.ok(n.segments.every((s) => s !== '.' && s !== '..' && !s.includes('/') && !s.includes('\\')));
      // the decoded segments equal the naive decoding of the raw path
      assert.ok(decoded);
      assert.deepEqual(n.segments, decoded.length === 0 ? [''] : decoded);
      // the decision equals the reference decision on the decoded path
      const joined = `/${n.segments.join('/')}`;
      const expected = REGEXES.some((r) => r.method === m && r.re.test(joined));
      assert.equal(decision.allow, expected, `${m} ${raw}`);
      if (decision.allow) {
        allowed++;
        assert.equal(decision.target, n.target);
      }
    }),
    { numRuns: 100_000 },
  );
  // the generator must reach both sides, or the property says nothing
  assert.ok(accepted > 20_000, `only ${accepted} accepted paths`);
  assert.ok(allowed > 1_000, `only ${allowed} allowed requests`);
});
