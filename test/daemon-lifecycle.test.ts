import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SandboxInfo } from '../src/daemon/protocol.js';
import { startCli } from './helpers/cli.js';
import { daemonHome, socketDir, startDaemon } from './helpers/daemon.js';
import { leftoversOf } from './helpers/home-leftovers.js';
import { canarySecret } from './helpers/proxy-bench.js';
import { needsRoot } from './helpers/sandbox-bench.js';
import { sandboxUpstream } from './helpers/sandbox-upstream.js';

const chat = readFileSync(new URL('fixtures/usage/openai-chat.json', import.meta.url), 'utf8');

test(
  'from separate processes: daemon, create, two execs, ls, logs, rm, stop; nothing left behind',
  { skip: needsRoot, timeout: 180_000 },
  async (t) => {
    const { config } = await sandboxUpstream(t, ['api.openai.com', 'api.github.com'], (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(chat);
    });
    // the daemon's config holds OPENAI_API_KEY; the client holds GITHUB_TOKEN and hands it over
    const withCred = join(socketDir(t), 'config.json');
    writeFileSync(
      withCred,
      JSON.stringify({
        ...(JSON.parse(readFileSync(config, 'utf8')) as object),
        credentials: { OPENAI_API_KEY: 'env:DAEMON_OPENAI_KEY' },
      }),
    );
    const home = daemonHome(t);
    const socket = join(socketDir(t), 'airlock.sock');
    const daemon = await startDaemon(t, {
      home,
      socket,
      args: ['--config', withCred],
      env: { DAEMON_OPENAI_KEY: canarySecret('openai') },
    });
    assert.equal(statSync(socket).mode & 0o777, 0o600, 'the socket is root-only');

    const created = await daemon.cli(['create', '--name', 'x', '--cred', 'GITHUB_TOKEN=env:MY_GH'], {
      MY_GH: canarySecret('github'),
    });
    assert.equal(created.status, 0, created.stderr);
    const id = created.stdout.trim();
    assert.match(id, /^[0-9a-f]{8}$/);

    const again = await daemon.cli(['create', '--name', 'x']);
    assert.equal(again.status, 125);
    assert.match(again.stderr, /AIRLOCK_ERR_NAME_TAKEN/);

    // a command's --env may not point the guest around the proxy, nor replace a placeholder
    for (const assignment of ['HTTPS_PROXY=http://elsewhere', 'OPENAI_API_KEY=x']) {
      const reserved = await daemon.cli(['exec', 'x', '--env', assignment, '--', 'true']);
      assert.equal(reserved.status, 125, assignment);
      assert.match(reserved.stderr, /airlock sets this variable .*\[AIRLOCK_ERR_ENV_RESERVED\]/);
    }

    // two commands at once, each with its own exit status and output
    const [three, five] = await Promise.all([
      daemon.cli(['exec', 'x', '--', 'sh', '-c', 'sleep 1; echo three; exit 3']),
      daemon.cli(['exec', id, '--', 'sh', '-c', 'sleep 1; echo five >&2; exit 5']),
    ]);
    assert.deepEqual([three.status, three.stdout], [3, 'three\n'], three.stderr);
    assert.deepEqual([five.status, five.stderr], [5, 'five\n']);

    // one allowed request with usage, one refused, and packets the guest's ruleset refused
    const curl = await daemon.cli([
      'exec',
      'x',
      '--',
      'sh',
      '-c',
      [
        'curl -s -o /dev/null -w "%{http_code}\\n" -H "authorization: Bearer $OPENAI_API_KEY" -d "{}" "$OPENAI_BASE_URL/chat/completions"',
        'curl -s -o /dev/null -w "%{http_code}\\n" "$AIRLOCK_PROXY_URL/proxy/nope/x"',
        'gw=${AIRLOCK_PROXY_URL#http://}; gw=${gw%:*}',
        'curl -s -m 2 "http://$gw:1/" || echo refused $?',
      ].join('; '),
    ]);
    assert.equal(curl.stdout, '200\n404\nrefused 7\n', curl.stderr);

    const ls = await daemon.cli(['ls', '--json']);
    assert.equal(ls.status, 0, ls.stderr);
    const { sandboxes } = JSON.parse(ls.stdout) as { sandboxes: SandboxInfo[] };
    assert.equal(sandboxes.length, 1);
    const x = sandboxes[0]!;
    assert.deepEqual(
      {
        id: x.id,
        name: x.name,
        credentials: [...x.credentials].sort(),
        requests: x.requests,
        denied: x.denied,
      },
      { id, name: 'x', credentials: ['GITHUB_TOKEN', 'OPENAI_API_KEY'], requests: 2, denied: 1 },
    );
    assert.equal(x.tokens, 29, 'openai-chat.json reports 19 + 10 tokens');
    assert.ok(x.packetsBlocked !== null && x.packetsBlocked >= 1, `packets blocked: ${x.packetsBlocked}`);
    assert.doesNotMatch(ls.stdout, /CANARY/, 'ls never shows a secret');

    const table = await daemon.cli(['ls']);
    assert.match(table.stdout, /^NAME\s+ID\s+AGE/);
    assert.match(table.stdout, new RegExp(`^x\\s+${id}\\s`, 'm'));

    const logs = await daemon.cli(['logs', '--json', 'x']);
    const rows = logs.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { decision: string; path: string });
    assert.deepEqual(
      rows.map((r) => r.decision),
      ['allowed', 'denied'],
    );
    assert.equal((await daemon.cli(['logs', 'x'])).stdout.split('\n').filter(Boolean).length, 2);

    // logs --follow sees a row that comes later
    const follow = startCli(['logs', '--follow', 'x'], { AIRLOCK_HOME: home, AIRLOCK_SOCKET: socket });
    t.after(() => follow.child.kill('SIGKILL'));
    let followed = '';
    follow.child.stdout!.on('data', (b: Buffer) => (followed += b.toString()));
    await daemon.cli([
      'exec',
      'x',
      '--',
      'sh',
      '-c',
      'curl -s -o /dev/null "$AIRLOCK_PROXY_URL/proxy/late/zz-late"',
    ]);
    for (let i = 0; i < 40 && !followed.includes('/zz-late'); i++) await sleep(100);
    assert.match(followed, /denied 404 GET \/zz-late \(airlock_unknown_service\)/);

    // a sandbox that runs a command is removed only with --force
    const long = startCli(['exec', 'x', '--', 'sh', '-c', 'echo started; sleep 60'], {
      AIRLOCK_HOME: home,
      AIRLOCK_SOCKET: socket,
    });
    t.after(() => long.child.kill('SIGKILL'));
    await new Promise<void>((resolve) => long.child.stdout!.once('data', () => resolve()));
    const busy = await daemon.cli(['rm', 'x']);
    assert.equal(busy.status, 125);
    assert.match(busy.stderr, /AIRLOCK_ERR_SANDBOX_BUSY/);
    const forced = await daemon.cli(['rm', '--force', 'x']);
    assert.equal(forced.status, 0, forced.stderr);
    const killed = await long.done;
    assert.equal(killed.status, 137, `the forced-out command ends at once: ${killed.stderr}`);
    const followEnd = await follow.done;
    assert.equal(followEnd.status, 0, 'logs --follow ends with its sandbox');

    const after = JSON.parse((await daemon.cli(['ls', '--json'])).stdout) as { sandboxes: SandboxInfo[] };
    assert.deepEqual(after.sandboxes, []);
    const gone = await daemon.cli(['exec', 'x', '--', 'true']);
    assert.equal(gone.status, 125);
    assert.match(gone.stderr, /AIRLOCK_ERR_SANDBOX_UNKNOWN/);

    // stop: SIGTERM to the commands, then removal
    assert.equal((await daemon.cli(['create', '--name', 'y'])).status, 0);
    const trapping = startCli(
      [
        'exec',
        'y',
        '--',
        'sh',
        '-c',
        'trap "echo got-term; exit 7" TERM; echo ready; while :; do sleep 0.1; done',
      ],
      { AIRLOCK_HOME: home, AIRLOCK_SOCKET: socket },
    );
    t.after(() => trapping.child.kill('SIGKILL'));
    await new Promise<void>((resolve) => trapping.child.stdout!.once('data', () => resolve()));
    const stop = await daemon.cli(['stop', 'y']);
    assert.equal(stop.status, 0, stop.stderr);
    const trapped = await trapping.done;
    assert.deepEqual([trapped.status, trapped.stdout], [7, 'ready\ngot-term\n']);

    // SIGTERM: the daemon removes what it has and its socket, and exits 0
    assert.equal((await daemon.cli(['create', '--name', 'z'])).status, 0);
    daemon.child.kill('SIGTERM');
    assert.deepEqual(await daemon.exited, { status: 0, signal: null }, daemon.log());
    assert.equal(existsSync(socket), false, 'the socket is gone');
    const left = await leftoversOf([home]);
    assert.equal(left.recorded, 3, 'control: x, y and z were recorded');
    assert.deepEqual(
      { ...left, recorded: 0 },
      { recorded: 0, netns: [], links: [], elements: [], cgroups: [] },
    );
    const down = await daemon.cli(['ls']);
    assert.equal(down.status, 125);
    assert.match(down.stderr, /AIRLOCK_ERR_DAEMON_UNREACHABLE/);
    assert.match(down.stderr, /hint: start it with: airlock daemon/);
  },
);

test(
  'exec passes signals to the command and -i feeds it stdin',
  { skip: needsRoot, timeout: 120_000 },
  async (t) => {
    const home = daemonHome(t);
    const socket = join(socketDir(t), 'airlock.sock');
    const daemon = await startDaemon(t, { home, socket });
    assert.equal((await daemon.cli(['create', '--name', 's'])).status, 0);
    const env = { AIRLOCK_HOME: home, AIRLOCK_SOCKET: socket };

    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      const short = signal.slice(3);
      const run = startCli(
        [
          'exec',
          's',
          '--',
          'sh',
          '-c',
          `trap "echo got-${short}; exit 9" ${short}; echo ready; while :; do sleep 0.1; done`,
        ],
        env,
      );
      t.after(() => run.child.kill('SIGKILL'));
      await new Promise<void>((resolve) => run.child.stdout!.once('data', () => resolve()));
      run.child.kill(signal);
      const result = await run.done;
      assert.deepEqual(
        [result.status, result.stdout],
        [9, `ready\ngot-${short}\n`],
        `${signal}: ${result.stderr}`,
      );
    }

    const { spawn } = await import('node:child_process');
    const { BIN } = await import('./helpers/cli.js');
    const cat = spawn(
      process.execPath,
      ['--import', 'tsx', BIN, 'exec', '-i', 's', '--', 'sh', '-c', 'tr a-z A-Z; exit 4'],
      {
        env: { ...process.env, ...env },
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    t.after(() => cat.kill('SIGKILL'));
    let out = '';
    cat.stdout.on('data', (b: Buffer) => (out += b.toString()));
    cat.stdin.end('hello daemon\n');
    const status = await new Promise<number | null>((resolve) => cat.once('close', resolve));
    assert.deepEqual([status, out], [4, 'HELLO DAEMON\n']);

    // without -i the command reads end-of-file at once
    const noInput = await daemon.cli(['exec', 's', '--', 'sh', '-c', 'cat; echo eof']);
    assert.deepEqual([noInput.status, noInput.stdout], [0, 'eof\n']);

    // -t gives the command a terminal
    const tty = await daemon.cli(['exec', '-t', 's', '--', 'sh', '-c', 'test -t 1 && echo on-a-tty; exit 6']);
    assert.equal(tty.status, 6, tty.stderr);
    assert.match(tty.stdout, /on-a-tty/);
  },
);

test(
  'the daemon and its other sandboxes survive a guest killed by its memory limit',
  { skip: needsRoot, timeout: 120_000 },
  async (t) => {
    const home = daemonHome(t);
    const socket = join(socketDir(t), 'airlock.sock');
    const daemon = await startDaemon(t, { home, socket });
    assert.equal((await daemon.cli(['create', '--name', 'small', '--memory', '64m'])).status, 0);
    assert.equal((await daemon.cli(['create', '--name', 'other'])).status, 0);
    // node fills 256 MiB: that cannot fit in 64 MiB
    const oom = await daemon.cli([
      'exec',
      'small',
      '--',
      'node',
      '-e',
      'const b = Buffer.alloc(256 * 2 ** 20, 1); console.log(b.length)',
    ]);
    assert.equal(oom.status, 137, `killed by the kernel: ${oom.stderr}`);
    const again = await daemon.cli(['exec', 'small', '--', 'sh', '-c', 'echo alive; exit 2']);
    assert.deepEqual([again.status, again.stdout], [2, 'alive\n'], 'the sandbox itself goes on');
    const other = await daemon.cli(['exec', 'other', '--', 'true']);
    assert.equal(other.status, 0);
    const { sandboxes } = JSON.parse((await daemon.cli(['ls', '--json'])).stdout) as {
      sandboxes: SandboxInfo[];
    };
    assert.deepEqual(sandboxes.map((s) => s.name).sort(), ['other', 'small']);
  },
);
