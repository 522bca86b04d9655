import assert from 'node:assert/strict';
import { test } from 'node:test';
import { main } from '../src/cli/main.js';
import { closeAfter } from '../src/cli/close-after.js';
import { runCommand } from '../src/cli/run.js';
import { AirlockError } from '../src/errors.js';
import { captureIo, runCli } from './helpers/cli.js';
import { tempHome } from './helpers/sandbox-bench.js';

/** Runs the CLI in this process; nothing here builds a sandbox (every case fails before). */
async function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const io = captureIo({ PATH: process.env.PATH, ...env });
  const status = await main(args, io);
  return { status, stdout: io.out(), stderr: io.err() };
}

test("airlock's own failures exit 125, whatever the kind", async (t) => {
  const env = { AIRLOCK_HOME: tempHome(t) };
  for (const args of [
    ['run', '--profile', 'nosuch', '--', 'true'], // profile (was 1)
    ['run', '--bogus', '--', 'true'], // usage (was 2)
    ['nosuch'], // unknown command (was 2)
    ['run', '--config', '/nonexistent/airlock.json', '--', 'true'], // config (was 1)
    [], // no command at all (was 2)
  ]) {
    const r = await cli(args, env);
    assert.equal(r.status, 125, `${JSON.stringify(args)}: ${r.stderr}`);
  }
  // the real executable too: the status reaches the shell
  assert.equal((await runCli(['run', '--profile', 'nosuch', '--', 'true'], env)).status, 125);
});

test('a flag value that starts with "-" where a value is expected is refused', async () => {
  const r = await cli(['run', '--name', '--', 'true']);
  assert.equal(r.status, 125);
  assert.match(r.stderr, /--name needs a value, not "--" \[AIRLOCK_ERR_USAGE\]/);
  assert.match(r.stderr, /hint: write --name=-- if the value starts with "-"/);
  // and a name a sandbox cannot have is refused even when spelled out
  const spelled = await cli(['run', '--name=--', '--', 'true']);
  assert.equal(spelled.status, 125);
  assert.match(spelled.stderr, /sandbox name "--" must be 1-64 letters/);
  assert.match((await cli(['create', '--name', '-x'])).stderr, /--name needs a value, not "-x"/);
});

test('airlock help COMMAND shows that command’s help, for every command', async () => {
  const top = await cli(['help']);
  assert.equal(top.status, 0);
  const names = [...top.stdout.matchAll(/^ {2}([a-z]+) {2,}/gm)].map((m) => m[1]!);
  assert.ok(names.length >= 14 && names.includes('completion'), names.join(' '));
  for (const name of names) {
    const viaHelp = await cli(['help', name]);
    const viaFlag = await cli([name, '--help']);
    assert.equal(viaHelp.status, 0, name);
    assert.equal(viaHelp.stdout, viaFlag.stdout, name);
    assert.notEqual(viaHelp.stdout, top.stdout, `airlock help ${name} shows the top-level help`);
  }
  assert.equal((await cli(['help', 'run'])).stdout, runCommand.help);
  const unknown = await cli(['help', 'rn']);
  assert.equal(unknown.status, 125);
  assert.match(unknown.stderr, /unknown command "rn"[\s\S]*did you mean "run"\?/);
});

test('did-you-mean for commands, flags, profiles and credential names', async () => {
  const cases: [string[], RegExp][] = [
    [['lss'], /unknown command "lss"[\s\S]*hint: did you mean "ls"\?/],
    [['run', '--profle', 'open', '--', 'true'], /unknown flag --profle[\s\S]*did you mean "--profile"\?/],
    [
      ['run', '--profile', 'llm_only', '--', 'true'],
      /unknown profile "llm_only"[\s\S]*did you mean "llm-only"\?/,
    ],
    [
      ['run', '--cred', 'openai_api_key', '--', 'true'],
      /no service takes the credential openai_api_key[\s\S]*did you mean "OPENAI_API_KEY"\?/,
    ],
    [
      ['run', '--allow-endpoint', 'opnai:POST:/v1/chat/completions', '--', 'true'],
      /unknown service "opnai" \(did you mean "openai"\?\)/,
    ],
  ];
  for (const [args, expected] of cases) {
    const r = await cli(args);
    assert.equal(r.status, 125, JSON.stringify(args));
    assert.match(r.stderr, expected);
  }
  // nothing close: no guess
  assert.doesNotMatch((await cli(['zzzzzz'])).stderr, /did you mean/);
});

test('--json makes errors JSON too, on stderr, with stdout left empty', async () => {
  for (const args of [
    ['ls', '--json', '--bogus'],
    ['services', '--json', '--config', '/nonexistent/airlock.json'],
    ['doctor', '--json', '--config', '/nonexistent/airlock.json'],
  ]) {
    const r = await cli(args);
    assert.equal(r.status, 125, JSON.stringify(args));
    assert.equal(r.stdout, '');
    const body = JSON.parse(r.stderr) as { error: { code: string; message: string; hint: string | null } };
    assert.match(body.error.code, /^AIRLOCK_ERR_(USAGE|CONFIG)$/);
    assert.ok(body.error.message.length > 0);
    assert.ok('hint' in body.error);
  }
  // a command line after -- is the guest's: its --json is not airlock's
  const guest = await cli(['run', '--bogus', '--', 'tool', '--json']);
  assert.match(guest.stderr, /^airlock: /);
});

test('--env refuses the variables airlock owns, naming each and why', async () => {
  const env = { OPENAI_API_KEY: 'sk-conventions-canary-0f3a' };
  for (const [assignment, reason] of [
    ['OPENAI_API_KEY=x', /granted credential of service "openai"/],
    ['OPENAI_BASE_URL=http://elsewhere', /points service "openai" at the proxy/],
    ['ANTHROPIC_BASE_URL=http://elsewhere', /points service "anthropic" at the proxy/],
    ['HTTPS_PROXY=http://elsewhere', /only through its proxy/],
    ['https_proxy=http://elsewhere', /only through its proxy/],
    ['No_Proxy=*', /only through its proxy/],
    ['ALL_PROXY=socks5://elsewhere', /only through its proxy/],
    ['AIRLOCK_PROXY_URL=http://elsewhere', /AIRLOCK_\*/],
  ] as const) {
    const r = await cli(['run', '--cred', 'OPENAI_API_KEY', '--env', assignment, '--', 'true'], env);
    assert.equal(r.status, 125, assignment);
    const name = assignment.split('=')[0]!;
    assert.match(r.stderr, new RegExp(`--env ${name}: airlock sets this variable`));
    assert.match(r.stderr, reason);
    assert.match(r.stderr, /\[AIRLOCK_ERR_ENV_RESERVED\]/);
    assert.doesNotMatch(r.stderr, /sk-conventions-canary/);
  }
});

test('a bad --allow-endpoint names the problem in the message, with no "lines above"', async () => {
  const r = await cli(['run', '--allow-endpoint', 'bogus', '--', 'true']);
  assert.equal(r.status, 125);
  assert.match(r.stderr, /^airlock: --allow-endpoint "bogus" is not SERVICE:METHOD:\/path/);
  assert.doesNotMatch(r.stderr, /lines above/);
});

test('AIRLOCK_LOG_LEVEL=bogus is a config error naming the value and the valid levels', async (t) => {
  const r = await cli(['run', '--', 'true'], { AIRLOCK_LOG_LEVEL: 'bogus', AIRLOCK_HOME: tempHome(t) });
  assert.equal(r.status, 125);
  assert.match(r.stderr, /AIRLOCK_LOG_LEVEL="bogus" is not a log level \[AIRLOCK_ERR_CONFIG\]/);
  assert.match(r.stderr, /use one of: silent, fatal, error, warn, info, debug, trace/);
  assert.doesNotMatch(r.stderr, /unexpected error|custom levels/);
});

test('when a run and its cleanup both fail, the first failure is the one reported', async () => {
  const io = captureIo();
  const first = new AirlockError('AIRLOCK_ERR_GUEST_START', 'the real problem');
  await assert.rejects(
    closeAfter(
      () => Promise.reject(first),
      () => Promise.reject(new AirlockError('AIRLOCK_ERR_NET_SETUP', 'teardown of airlock-x incomplete')),
      io,
    ),
    (e) => e === first,
  );
  assert.equal(
    io.err(),
    'airlock: warning: while cleaning up: teardown of airlock-x incomplete [AIRLOCK_ERR_NET_SETUP]\n',
  );
  // a cleanup failure alone is still a failure
  await assert.rejects(
    closeAfter(
      () => Promise.resolve(0),
      () => Promise.reject(new Error('close failed')),
      io,
    ),
    /close failed/,
  );
});
