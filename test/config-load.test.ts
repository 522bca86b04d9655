import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { ConfigSchema, loadConfig, parseConfig } from '../src/config/index.js';
import { DEFAULT_LIMITS, DEFAULT_TIMEOUTS } from '../src/proxy/index.js';
import { AirlockError } from '../src/errors.js';
import { tempDir } from './helpers/temp-dir.js';

/** The `path: message` lines of a config error (after the first, summary line). */
function problemLines(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof AirlockError, String(e));
    assert.equal(e.code, 'AIRLOCK_ERR_CONFIG');
    return e.message.split('\n').slice(1);
  }
  assert.fail('expected AIRLOCK_ERR_CONFIG');
}

test('an empty config is every default', () => {
  const { config, catalogue } = parseConfig({});
  assert.equal(config.pool, '10.209.0.0/16');
  assert.equal(config.proxyPort, 9090);
  assert.deepEqual(config.timeouts, {}, "the proxy's own defaults apply");
  assert.deepEqual(config.limits, { pids: 1024, graceSeconds: 10 }, "the proxy's rate defaults apply");
  assert.equal(config.egress.allowTestRanges, false);
  assert.equal(config.audit.synchronous, 'FULL');
  assert.ok(catalogue.byName('openai'));
});

test("the defaults the config describes are the proxy's: one definition", () => {
  const schema = z.toJSONSchema(ConfigSchema, { io: 'input' }) as {
    properties: Record<string, { properties: Record<string, { description?: string }> }>;
  };
  const described = (section: string, field: string) =>
    Number(/omitted = (\d+)/.exec(schema.properties[section]?.properties[field]?.description ?? '')?.[1]);
  assert.equal(described('timeouts', 'connectMs'), DEFAULT_TIMEOUTS.connect);
  assert.equal(described('timeouts', 'headersMs'), DEFAULT_TIMEOUTS.headers);
  assert.equal(described('timeouts', 'bodyIdleMs'), DEFAULT_TIMEOUTS.bodyIdle);
  for (const field of Object.keys(DEFAULT_LIMITS) as (keyof typeof DEFAULT_LIMITS)[]) {
    assert.equal(described('limits', field), DEFAULT_LIMITS[field], field);
  }
});

test('a full, valid config parses, custom services join the catalogue', (t) => {
  const tmp = tempDir(t);
  const ca = tmp.write('ca.pem', '-----BEGIN CERTIFICATE-----\n');
  const path = tmp.write(
    'config.json',
    JSON.stringify({
      pool: '10.77.0.0/16',
      proxyPort: 9191,
      credentials: { OPENAI_API_KEY: 'env:MY_OPENAI', CORP_TOKEN: 'file:/run/secrets/corp' },
      services: [
        {
          name: 'corp',
          envVar: 'CORP_TOKEN',
          upstream: 'https://api.corp.example.com/v2',
          carrier: { kind: 'header', header: 'X-Corp-Key', template: 'Token {secret}' },
          baseUrlVariables: [{ name: 'CORP_BASE_URL', suffix: '/v2' }],
          caFile: ca,
          llm: true,
        },
      ],
      profiles: {
        dev: { extends: ['github'], hosts: ['*.corp.example.com'], endpoints: { corp: ['GET /v2/**'] } },
      },
      endpoints: { openai: ['POST /v1/chat/completions', 'GET /v1/models/*'] },
      resolve: { 'api.openai.com': '203.0.113.10', 'api.corp.example.com': '2001:db8::10' },
      upstreamCa: [ca],
      timeouts: { connectMs: 5000 },
      audit: { synchronous: 'NORMAL' },
    }),
  );
  const { config, catalogue, path: read } = loadConfig(path, { env: {} });
  assert.equal(read, path);
  assert.equal(config.timeouts.connectMs, 5000);
  assert.equal(config.timeouts.bodyIdleMs, undefined, 'left to the proxy');
  const corp = catalogue.byEnvVar('CORP_TOKEN');
  assert.equal(corp?.name, 'corp');
  assert.deepEqual(corp?.hosts, ['api.corp.example.com']);
  assert.deepEqual(corp?.credentialHeaders, ['x-corp-key', 'authorization', 'proxy-authorization']);
  assert.equal(corp?.caFile, ca);
});

test('a bad file prints one path: message line per problem', () => {
  const lines = problemLines(() =>
    parseConfig({
      pool: '8.8.8.0/24',
      proxyPort: 70000,
      credentials: { OPENAI_API_KEY: 'sk-live-abcdef123456', NOPE_KEY: 'env:X' },
      services: [
        {
          name: 'openai',
          envVar: 'X_KEY',
          upstream: 'http://x.example.com',
          carrier: { kind: 'header', header: 'x', template: 'no placeholder' },
        },
      ],
      profiles: { dev: { hosts: ['*.com'] } },
      timeouts: { connectMs: -1 },
      audit: { synchronous: 'OFF' },
      resolve: { 'a.example.com': 'not-an-ip' },
      typo: true,
    }),
  );
  const paths = lines.map((l) => l.slice(0, l.indexOf(': ')));
  for (const expected of [
    'proxyPort',
    'credentials.OPENAI_API_KEY',
    'services[0].upstream',
    'services[0].carrier.template',
    'timeouts.connectMs',
    'audit.synchronous',
    'resolve["a.example.com"]',
    '(root)',
  ]) {
    assert.ok(paths.includes(expected), `${expected} missing from:\n${lines.join('\n')}`);
  }
  assert.ok(lines.some((l) => l.includes('typo')));
  assert.match(lines.join('\n'), /literal secret is refused/);
  // the secret-looking value is never echoed
  assert.doesNotMatch(lines.join('\n'), /sk-live/);
});

test('cross-field problems are reported with their paths too', () => {
  const lines = problemLines(() =>
    parseConfig({
      pool: '10.1.2.3/16',
      credentials: { NOPE_KEY: 'env:X' },
      profiles: { dev: { hosts: ['ok.example.com', '*.co.uk'], extends: ['ghost'] }, open: {} },
      endpoints: { openai: ['POST v1/chat'], ghost: ['GET /'] },
      resolve: { '10.0.0.1': '10.0.0.1' },
    }),
  );
  const text = lines.join('\n');
  for (const expected of [
    /^pool: .*host bits/m,
    /^credentials\.NOPE_KEY: no service takes NOPE_KEY/m,
    /^profiles\.dev\.hosts\[1\]: .*broader than one registrable domain/m,
    /^profiles\.dev\.extends\[0\]: unknown profile "ghost"/m,
    /^profiles\.open: "open" is a built-in profile/m,
    /^endpoints\.openai\[0\]: .*must start with/m,
    /^endpoints\.ghost: unknown service/m,
    /^resolve\["10\.0\.0\.1"\]: must be a host name/m,
  ]) {
    assert.match(text, expected);
  }
  assert.equal(lines.length, 8, text);
});

test('custom services may not shadow built-ins', () => {
  const lines = problemLines(() =>
    parseConfig({
      services: [
        {
          name: 'mine',
          envVar: 'OPENAI_API_KEY',
          upstream: 'https://api.openai.com',
          carrier: { kind: 'basic', username: 'u' },
        },
      ],
    }),
  );
  assert.ok(
    lines.some((l) =>
      l.startsWith('services[0].envVar: variable OPENAI_API_KEY already belongs to service "openai"'),
    ),
    lines.join('\n'),
  );
  assert.ok(
    lines.some((l) => l.startsWith('services[0].upstream: host api.openai.com')),
    lines.join('\n'),
  );
});

test('loadConfig: named file must exist, JSON errors do not quote content, CA files must exist', (t) => {
  const tmp = tempDir(t);
  assert.throws(
    () => loadConfig(`${tmp.dir}/missing.json`, { env: {} }),
    /cannot read config file .*missing\.json \(ENOENT\)/,
  );
  const bad = tmp.write('bad.json', '{\n  "credentials": { "OPENAI_API_KEY": sk-secret-value }\n}');
  const lines = problemLines(() => loadConfig(bad, { env: {} }));
  assert.match(lines[0]!, /^\(root\): not valid JSON/);
  assert.doesNotMatch(lines.join('\n'), /sk-secret/);
  const noCa = tmp.write('noca.json', JSON.stringify({ upstreamCa: ['/nonexistent/ca.pem'] }));
  assert.deepEqual(
    problemLines(() => loadConfig(noCa, { env: {} })),
    ['upstreamCa[0]: no such file /nonexistent/ca.pem'],
  );
});

test('AIRLOCK_CONFIG names the file when --config is absent; no file at all means defaults', (t) => {
  const tmp = tempDir(t);
  const path = tmp.write('c.json', JSON.stringify({ proxyPort: 9999 }));
  assert.equal(loadConfig(undefined, { env: { AIRLOCK_CONFIG: path } }).config.proxyPort, 9999);
  const other = tmp.write('d.json', JSON.stringify({ proxyPort: 9898 }));
  assert.equal(loadConfig(other, { env: { AIRLOCK_CONFIG: path } }).config.proxyPort, 9898);
  const none = loadConfig(undefined, { env: {}, defaultPath: `${tmp.dir}/absent.json` });
  assert.equal(none.path, undefined);
  assert.equal(none.config.proxyPort, 9090);
  assert.throws(() => loadConfig(undefined, { env: { AIRLOCK_CONFIG: `${tmp.dir}/absent.json` } }), /ENOENT/);
});
