import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { startProgram } from './helpers/cli.js';
import { leftovers } from './helpers/fake-internet.js';
import { createFakeUpstream } from './helpers/fake-upstream.js';
import { canarySecret } from './helpers/proxy-bench.js';
import { createTestCa } from './helpers/test-ca.js';
import { needsRoot, tempHome } from './helpers/sandbox-bench.js';
import { anIntent } from './helpers/audit-db.js';
import { createAuditWriter } from '../src/audit/writer.js';
import { openDatabase } from '../src/store/database.js';

// The executable people run is the bundle `npm run build` writes to dist/bin/ (package.json
// "bin"); the other tests run the TypeScript sources, so this one runs the bundle itself.
const BUNDLE = fileURLToPath(new URL('../dist/bin/airlock.js', import.meta.url));

function airlock(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(BUNDLE, args, { env: { ...process.env, ...env }, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('the bundled executable starts on its own: --version and --help', () => {
  assert.equal(statSync(BUNDLE).mode & 0o111, 0o111, 'dist/bin/airlock.js is executable');
  const version = airlock(['--version']);
  assert.equal(version.status, 0, version.stderr);
  assert.match(version.stdout, /^airlock \d+\.\d+\.\d+\n$/);
  assert.match(airlock(['--help']).stdout, /Usage: airlock <command>/);
});

test(
  'the bundled executable runs a sandbox whose proxy and audit writer work',
  { skip: needsRoot },
  async (t) => {
    const env = { AIRLOCK_HOME: tempHome(t) };
    // a request to a service nobody configured: the proxy refuses it and the audit thread records it
    const request = 'curl -s -o /dev/null -w "%{http_code}" "$AIRLOCK_PROXY_URL/proxy/nosuch/v1/x"';
    const run = airlock(['run', '--no-workdir', '--', 'sh', '-c', request], env);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, '404');
    const audit = airlock(['audit', '--json'], env);
    assert.equal(audit.status, 0, audit.stderr);
    const rows = audit.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { status: number; path: string });
    assert.deepEqual(
      rows.map((r) => [r.status, r.path]),
      [[404, '/v1/x']],
    );
    assert.deepEqual(await leftovers(), { netns: [], links: [], elements: 0, cgroups: [] });
  },
);

test(
  'the bundled executable loads its on-demand parts from their own bundles, with the code cache',
  { skip: needsRoot },
  async (t) => {
    const home = tempHome(t);
    // TLS interception makes the sandbox's CA at create: the certificate code is lazy-x509.cjs
    const run = airlock(
      [
        'run',
        '--no-workdir',
        '--intercept',
        'all',
        '--',
        'sh',
        '-c',
        'grep -c "BEGIN CERTIFICATE" "$SSL_CERT_FILE"',
      ],
      { AIRLOCK_HOME: home },
    );
    assert.equal(run.status, 0, run.stderr);
    assert.ok(Number(run.stdout) > 1, `the guest's trust bundle holds the sandbox's CA too: ${run.stdout}`);
    assert.ok(
      readdirSync(join(home, 'cache')).some((f) => f.startsWith('lazy-x509.cjs-')),
      'the lazy part was compiled with the code cache',
    );
    // every part run.cjs may load on demand is there and loads
    const parts = [
      ...readFileSync(join(dirname(BUNDLE), 'run.cjs'), 'latin1').matchAll(/"(lazy-[a-z0-9-]+)\.cjs"/g),
    ];
    assert.deepEqual(parts.map((m) => m[1]).sort(), [
      'lazy-reflect-metadata',
      'lazy-undici',
      'lazy-ws',
      'lazy-x509',
    ]);
    const ws = createRequire(BUNDLE)('./lazy-ws.cjs') as { WebSocketServer?: unknown };
    assert.equal(typeof ws.WebSocketServer, 'function');
    assert.deepEqual(await leftovers(), { netns: [], links: [], elements: 0, cgroups: [] });
  },
);

test(
  "the bundled executable forwards upstream through undici's Agent from lazy-undici.cjs",
  { skip: needsRoot },
  async (t) => {
    const home = tempHome(t);
    const ca = createTestCa(t);
    const body = 'x'.repeat(200_000); // streamed through the Agent's client and parser
    const upstream = await createFakeUpstream({
      ca,
      hostnames: ['echo.test'],
      t,
      handler: (_req, res) => void res.writeHead(200, { 'content-type': 'text/plain' }).end(body),
    });
    const closed = await closedPort();
    const service = (name: string, port: number) => ({
      name,
      envVar: `${name.toUpperCase()}_KEY`,
      upstream: `https://${name}.test:${port}`,
      carrier: { kind: 'header', header: 'authorization', template: 'Bearer {secret}' },
      baseUrlVariables: [{ name: `${name.toUpperCase()}_BASE_URL` }],
    });
    const config = join(home, 'config.json');
    writeFileSync(
      config,
      JSON.stringify({
        services: [service('echo', upstream.port), service('gone', closed)],
        credentials: { ECHO_KEY: 'env:ECHO_REAL', GONE_KEY: 'env:ECHO_REAL' },
        resolve: { 'echo.test': '127.0.0.1', 'gone.test': '127.0.0.1' },
        upstreamCa: [ca.caFile],
      }),
    );
    const secret = canarySecret('lazy-undici');
    const guest = [
      'curl -s "$ECHO_BASE_URL/hello" | wc -c',
      'curl -s -o /dev/null -w "%{http_code}\\n" "$GONE_BASE_URL/hello"',
    ].join('; ');
    // not spawnSync: the upstream in this process must keep answering
    const { done } = startProgram(
      BUNDLE,
      ['run', '--config', config, '--no-workdir', '--', 'sh', '-c', guest],
      {
        AIRLOCK_HOME: home,
        ECHO_REAL: secret,
      },
    );
    const run = await done;
    assert.equal(run.status, 0, run.stderr);
    // the whole answer came through, and a refused connection is the proxy's 502, not a crash
    assert.deepEqual(run.stdout.trim().split('\n'), [String(body.length), '502']);
    assert.equal(upstream.requests.length, 1);
    assert.equal(upstream.requests[0]!.headers.authorization, `Bearer ${secret}`);
    assert.ok(!run.stdout.includes(secret) && !run.stderr.includes(secret));
    assert.ok(
      readdirSync(join(home, 'cache')).some((f) => f.startsWith('lazy-undici.cjs-')),
      'the Agent came from lazy-undici.cjs, compiled with the code cache',
    );
    assert.deepEqual(await leftovers(), { netns: [], links: [], elements: 0, cgroups: [] });
  },
);

test("lazy-undici.cjs holds no copy of undici's modules the command bundle holds", () => {
  // undici marks its objects with module-local symbols and checks its own error classes: a
  // second copy of its core in the lazy part would not recognise the command's objects
  const read = (name: string) => readFileSync(join(dirname(BUNDLE), name), 'latin1');
  const run = read('run.cjs');
  const agent = read('lazy-undici.cjs');
  for (const marker of ['kUrl:Symbol("url")', 'ConnectTimeoutError']) {
    assert.ok(run.includes(marker), `run.cjs holds undici's core (${marker})`);
    assert.ok(!agent.includes(marker), `lazy-undici.cjs has its own copy of ${marker}`);
  }
  const agentClass = /\bAgent\d*=class extends DispatcherBase/;
  assert.match(agent, agentClass, "lazy-undici.cjs is undici's Agent");
  assert.doesNotMatch(run, agentClass, 'run.cjs does not hold the Agent');
});

/** A loopback port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = createNetServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

test('the executable exits only once a slow reader has all of its output', async (t) => {
  // it exits with process.exit, which drops what a full pipe still holds back unless it waits
  const home = tempHome(t);
  const db = openDatabase({ home });
  const writer = createAuditWriter({ db });
  const rows = 2000;
  for (let i = 0; i < rows; i++) await writer.intent(anIntent({ path: `/v1/${'x'.repeat(100)}/${i}` }));
  await writer.close();
  db.close();

  const child = spawn(BUNDLE, ['audit', '--json', '--limit', String(rows)], {
    env: { ...process.env, AIRLOCK_HOME: home },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  child.stdout.pause(); // the pipe fills (64 KiB) long before the ~500 KB are written
  await sleep(500);
  const chunks: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => chunks.push(b));
  child.stdout.resume();
  const [status] = (await once(child, 'close')) as [number];
  assert.equal(status, 0);
  const lines = Buffer.concat(chunks).toString().trim().split('\n');
  assert.equal(lines.length, rows);
  assert.match((JSON.parse(lines.at(-1)!) as { path: string }).path, /\/1999$/);
});
