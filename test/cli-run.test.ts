import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readFileSync } from 'node:fs';
import { leftovers } from './helpers/fake-internet.js';
import { runCli, startCli } from './helpers/cli.js';
import { needsRoot, tempHome } from './helpers/sandbox-bench.js';

test('airlock run passes stdio through and returns the command’s status', { skip: needsRoot }, async (t) => {
  const env = { AIRLOCK_HOME: tempHome(t) };
  const r = await runCli(['run', '--', 'sh', '-c', 'echo to-stdout; echo to-stderr >&2; exit 3'], env);
  assert.equal(r.status, 3);
  assert.equal(r.stdout, 'to-stdout\n');
  assert.equal(r.stderr, 'to-stderr\n');
  assert.equal((await runCli(['run', '--', 'no-such-command-xyz'], env)).status, 127);
  assert.equal((await runCli(['run', 'sh', '-c', 'kill -KILL $$'], env)).status, 128 + 9);
  assert.deepEqual(await leftovers(), { netns: [], links: [], elements: 0, cgroups: [] });
});

test('airlock run --env, --workdir, --user and the sudo default user', { skip: needsRoot }, async (t) => {
  const env = { AIRLOCK_HOME: tempHome(t) };
  const workdir = tempHome(t);
  const r = await runCli(
    [
      'run',
      '--env',
      'GREETING=hi there',
      '--workdir',
      workdir,
      '--',
      'sh',
      '-c',
      'pwd; echo "$GREETING"; id -u',
    ],
    env,
  );
  assert.equal(r.stdout, `${workdir}\nhi there\n65534\n`, r.stderr);
  const shared = await runCli(['run', '--workdir', '/tmp', '--', 'true'], env);
  assert.equal(shared.status, 125);
  assert.match(shared.stderr, /working directory \/tmp is \/tmp, which a guest never gets read-write/);
  const user = await runCli(['run', '--user', '4242:4243', '--', 'sh', '-c', 'id -u; id -g'], env);
  assert.equal(user.stdout, '4242\n4243\n', user.stderr);
  const sudo = await runCli(['run', '--', 'id', '-u'], { ...env, SUDO_UID: '1234', SUDO_GID: '1234' });
  assert.equal(sudo.stdout, '1234\n', sudo.stderr);
  const root = await runCli(['run', '--user', 'root', '--', 'true'], env);
  assert.equal(root.status, 125);
  assert.match(root.stderr, /guests never run as root \(uid\/gid 0\) \[AIRLOCK_ERR_USER_UNKNOWN\]/);
  const bad = await runCli(['run', '--user', 'no-such-user-xyz', '--', 'true'], env);
  assert.match(bad.stderr, /--user no-such-user-xyz: no such user/);
  const badEnv = await runCli(['run', '--env', '1X=2', '--', 'true'], env);
  assert.equal(badEnv.status, 125);
  assert.match(badEnv.stderr, /--env 1X/);
});

test('Ctrl-C reaches the guest and the sandbox is torn down', { skip: needsRoot }, async (t) => {
  const env = { AIRLOCK_HOME: tempHome(t) };
  const { child, done } = startCli(
    ['run', '--', 'sh', '-c', 'trap "echo got-INT; exit 42" INT; echo ready; while :; do sleep 0.1; done'],
    env,
  );
  await new Promise<void>((resolve) =>
    child.stdout!.on('data', (b: Buffer) => b.toString().includes('ready') && resolve()),
  );
  child.kill('SIGINT');
  const r = await done;
  assert.match(r.stdout, /got-INT/);
  assert.equal(r.status, 42);
  assert.deepEqual(await leftovers(), { netns: [], links: [], elements: 0, cgroups: [] });
});

test('bad credentials, profiles, flags and a missing command are refused clearly', async () => {
  const literal = 'sk-literal-CANARY-0f9e8d7c';
  const lit = await runCli(['run', '--cred', `OPENAI_API_KEY=${literal}`, '--', 'true']);
  assert.equal(lit.status, 125);
  assert.match(lit.stderr, /literal secret is refused \(on a command line it shows in ps/);
  assert.ok(!lit.stderr.includes(literal), 'the refused literal is never echoed');
  const unset = await runCli(['run', '--cred', 'OPENAI_API_KEY=env:AIRLOCK_TEST_UNSET_VAR', '--', 'true']);
  assert.match(
    unset.stderr,
    /credential OPENAI_API_KEY: variable AIRLOCK_TEST_UNSET_VAR is not set \[AIRLOCK_ERR_SECRET_SOURCE\]/,
  );
  const unknownCred = await runCli(['run', '--cred', 'NOT_A_SERVICE_KEY', '--', 'true'], {
    NOT_A_SERVICE_KEY: 'x',
  });
  assert.match(unknownCred.stderr, /no service takes the credential NOT_A_SERVICE_KEY/);
  const profile = await runCli(['run', '--profile', 'no-such-profile', '--', 'true']);
  assert.equal(profile.status, 125);
  assert.match(profile.stderr, /no-such-profile[\s\S]*llm-only/);
  const mismatch = await runCli(['run', '--profile', 'github', '--cred', 'OPENAI_API_KEY', '--', 'true'], {
    OPENAI_API_KEY: 'sk-x',
  });
  assert.match(
    mismatch.stderr,
    /credential OPENAI_API_KEY is for api\.openai\.com .*profile "github" does not allow/,
  );
  const unknown = await runCli(['run', '--bogus', '--', 'true']);
  assert.equal(unknown.status, 125);
  assert.match(unknown.stderr, /unknown flag --bogus.*\n.*valid flags: --profile, --cred/);
  const none = await runCli(['run']);
  assert.equal(none.status, 125);
  assert.match(none.stderr, /no command given/);
  const cmd = await runCli(['launch']);
  assert.equal(cmd.status, 125);
  assert.match(
    cmd.stderr,
    /unknown command "launch"[\s\S]*commands: run, daemon, create, exec, ls, logs, stop, rm, update, audit, learn, services, profiles, doctor, completion, gc/,
  );
});

test('working directories and mounts that would show the host are refused before anything is built', async (t) => {
  const env = { AIRLOCK_HOME: tempHome(t) };
  for (const [args, message] of [
    [['--workdir', '/'], /working directory \/ is \/, which a guest never gets read-write/],
    [['--workdir', '/home'], /working directory \/home is \/home, which a guest never gets read-write/],
    [['--workdir', env.AIRLOCK_HOME], /is \/tmp\/airlock-test-\w+, which a guest never gets/],
    [['--workdir', '/nonexistent-dir-xyz'], /working directory \/nonexistent-dir-xyz does not exist/],
    [['--workdir', '/tmp', '--no-workdir'], /--workdir and --no-workdir exclude each other/],
    [['--mount', '/:/host'], /--mount \/:\/host: \/ is \/, which a guest never sees/],
    [['--mount', `${env.AIRLOCK_HOME}:/state:ro`], /which a guest never sees/],
    [['--mount', '/usr/share:/proc/x'], /DST \/proc\/x is inside \/proc/],
    [['--mount', '/usr/share:/usr/new-dir'], /DST \/usr\/new-dir does not exist, and \/usr is read-only/],
    [['--mount', 'relative:/x'], /SRC and DST must be absolute paths/],
    [['--mount', '/usr/share:/x:rx'], /mode "rx" is neither ro nor rw/],
  ] as const) {
    const r = await runCli(['run', ...args, '--', 'true'], env);
    assert.equal(r.status, 125, `${JSON.stringify(args)}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
  assert.deepEqual(await leftovers(), { netns: [], links: [], elements: 0, cgroups: [] });
});

test('every command has --help', async () => {
  const top = await runCli(['--help']);
  assert.equal(top.status, 0);
  for (const name of top.stdout.matchAll(/^ {2}([a-z]+) /gm)) {
    const r = await runCli([name[1]!, '--help']);
    assert.equal(r.status, 0, name[1]);
    assert.match(r.stdout, new RegExp(`Usage:\\s+airlock ${name[1]}`), name[1]);
  }
});

test('--version prints the package version', async () => {
  const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  for (const flag of ['--version', '-V']) {
    const r = await runCli([flag]);
    assert.equal(r.status, 0, flag);
    assert.equal(r.stdout, `airlock ${version}\n`, flag);
  }
});
