import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { BIN, type CliResult } from './helpers/cli.js';
import { daemonHome, socketDir, startDaemon } from './helpers/daemon.js';
import { needsRoot } from './helpers/sandbox-bench.js';

interface TestUser {
  name: string;
  uid: number;
  gid: number;
}

function idOf(flag: '-u' | '-g', name: string): number {
  return Number(execFileSync('id', [flag, name], { encoding: 'utf8' }).trim());
}

/** A throwaway group, and users in it or not; all removed after the test. */
function testUsers(t: TestContext): { group: string; gid: number; member: TestUser; outsider: TestUser } {
  const tag = randomBytes(3).toString('hex');
  const group = `alt${tag}`;
  execFileSync('groupadd', [group]);
  t.after(() => execFileSync('groupdel', [group]));
  const user = (name: string, groups: string[]): TestUser => {
    execFileSync('useradd', [
      '-M',
      '-N',
      '-s',
      '/usr/sbin/nologin',
      ...(groups.length ? ['-G', groups.join(',')] : []),
      name,
    ]);
    t.after(() => execFileSync('userdel', [name]));
    return { name, uid: idOf('-u', name), gid: idOf('-g', name) };
  };
  return {
    group,
    gid: Number(execFileSync('getent', ['group', group], { encoding: 'utf8' }).split(':')[2]),
    member: user(`alm${tag}`, [group]),
    outsider: user(`alo${tag}`, []),
  };
}

/** Runs `node ARGS` as `user` (with its groups), like a shell of that user would. */
function runAs(
  t: TestContext,
  user: TestUser,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<CliResult> {
  const child = spawn(
    'setpriv',
    [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--init-groups', process.execPath, ...args],
    { env: { PATH: process.env.PATH, HOME: '/tmp', ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  t.after(() => child.kill('SIGKILL'));
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  return new Promise((resolve) =>
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr });
    }),
  );
}

/** A raw API call, as any program of the user could make it (no airlock client in the way). */
const RAW = `
import { request } from 'node:http';
const [method, path, body] = process.argv.slice(1);
const req = request({ socketPath: process.env.AIRLOCK_SOCKET, method, path, headers: { 'content-type': 'application/json' } }, (res) => {
  let text = '';
  res.on('data', (b) => (text += b));
  res.on('end', () => console.log(JSON.stringify({ status: res.statusCode, body: text ? JSON.parse(text) : null })));
});
req.on('error', (e) => console.log(JSON.stringify({ error: e.code })));
req.end(body);
`;

test(
  "a member of daemon.group can create, exec and rm, and gains nothing the config doesn't grant; others are refused",
  { skip: needsRoot, timeout: 180_000 },
  async (t) => {
    const { group, gid, member, outsider } = testUsers(t);
    const home = daemonHome(t);
    const dir = socketDir(t);
    const socket = join(dir, 'airlock.sock');
    const config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ daemon: { group } }));
    await startDaemon(t, { home, socket, args: ['--config', config] });
    const sock = statSync(socket);
    assert.deepEqual([sock.mode & 0o777, sock.uid, sock.gid], [0o660, 0, gid], 'socket root:group 0660');
    const folder = statSync(dirname(socket));
    assert.deepEqual([folder.mode & 0o777, folder.gid], [0o710, gid], 'its folder root:group 0710');

    const env = { AIRLOCK_SOCKET: socket };
    const cli = (user: TestUser, args: string[], extra: NodeJS.ProcessEnv = {}) =>
      runAs(t, user, ['--import', 'tsx', BIN, ...args], { ...env, ...extra });
    const raw = async (user: TestUser, method: string, path: string, body?: unknown) => {
      const r = await runAs(
        t,
        user,
        ['--input-type=module', '-e', RAW, method, path, JSON.stringify(body ?? {})],
        env,
      );
      return JSON.parse(r.stdout || '{}') as {
        status?: number;
        body?: { error?: { code: string } };
        error?: string;
      };
    };

    // the member: create, exec (as the config's guest user, nobody), ls, rm
    const created = await cli(member, ['create', '--name', 'g']);
    assert.equal(created.status, 0, created.stderr);
    const id = await cli(member, ['exec', 'g', '--', 'id', '-u']);
    assert.deepEqual([id.status, id.stdout], [0, '65534\n'], id.stderr);
    const exit = await cli(member, ['exec', 'g', '--', 'sh', '-c', 'exit 3']);
    assert.equal(exit.status, 3);
    assert.match((await cli(member, ['ls'])).stdout, /^g\s/m);

    // what root holds stays root's: no secret sources, no unknown credential names, no other
    // user, no mounts, no loader variables for the root-run tools
    const forbidden = [
      { credentials: ['OPENAI_API_KEY=file:/etc/shadow'] },
      { credentials: ['OPENAI_API_KEY=env:PATH'] },
      { credentials: ['OPENAI_API_KEY'] },
      { user: 'root' },
      { user: member.name },
      { env: { LD_PRELOAD: '/tmp/evil.so' } },
    ];
    for (const body of forbidden) {
      const r = await raw(member, 'POST', '/v1/sandboxes', body);
      assert.deepEqual([r.status, r.body?.error?.code], [403, 'AIRLOCK_ERR_FORBIDDEN'], JSON.stringify(body));
    }
    for (const body of [
      { mounts: ['/etc:/etc'] },
      { workdir: '/root' },
      { resolve: { 'api.openai.com': '127.0.0.1' } },
    ]) {
      const r = await raw(member, 'POST', '/v1/sandboxes', body);
      assert.deepEqual([r.status, r.body?.error?.code], [400, 'AIRLOCK_ERR_USAGE'], JSON.stringify(body));
    }
    // the client reads file: sources itself, as the member, who cannot read /etc/shadow
    const shadow = await cli(member, ['create', '--cred', 'OPENAI_API_KEY=file:/etc/shadow']);
    assert.equal(shadow.status, 125);
    assert.match(shadow.stderr, /cannot read file \/etc\/shadow \(EACCES\).*AIRLOCK_ERR_SECRET_SOURCE/);
    // control: the same API call with a value the member holds is accepted
    const held = await raw(member, 'POST', '/v1/sandboxes', {
      name: 'h',
      secrets: { OPENAI_API_KEY: 'sk-member-own' },
    });
    assert.equal(held.status, 201, JSON.stringify(held));

    const removed = await cli(member, ['rm', 'g']);
    assert.equal(removed.status, 0, removed.stderr);
    assert.equal((await cli(member, ['rm', 'h'])).status, 0);
    assert.doesNotMatch((await cli(member, ['ls'])).stdout, /^g\s/m);

    // a user outside the group cannot reach the socket at all
    const outside = await cli(outsider, ['ls']);
    assert.equal(outside.status, 125);
    assert.match(outside.stderr, /permission denied on the daemon socket .*AIRLOCK_ERR_DAEMON_UNREACHABLE/);
    assert.match(outside.stderr, /daemon\.group/);
    assert.equal((await raw(outsider, 'GET', '/v1/sandboxes')).error, 'EACCES');
  },
);
