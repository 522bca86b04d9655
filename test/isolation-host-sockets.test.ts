import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { NOBODY } from '../src/sandbox/guest-user.js';
import { needsRoot, tempHome, testSandbox } from './helpers/sandbox-bench.js';

const BIN = fileURLToPath(new URL('../src/cli/bin.ts', import.meta.url));

/** Runs a command on the host as the guest's user (nobody), with a minimal environment. */
function asNobody(command: string[], env: Record<string, string> = {}): string {
  const vars = Object.entries({ PATH: '/usr/bin:/bin', SHELL: '/bin/sh', TERM: 'xterm', ...env }).map(
    ([k, v]) => `${k}=${v}`,
  );
  return execFileSync(
    'setpriv',
    [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', 'env', '-i', ...vars, ...command],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
}

/** A folder under the host's /tmp that anyone may enter, removed after the test. */
function hostTmp(t: { after(fn: () => void): void }, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o777);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test(
  "the caller's tmux server is out of reach: no secret from its environment, no command on the host",
  { skip: needsRoot },
  async (t) => {
    const canary = `CANARY_${randomBytes(12).toString('hex')}`;
    const dir = hostTmp(t, 'airlock-tmux-');
    const socket = join(dir, 'default');
    const marker = join(dir, 'escaped');
    // the caller's tmux, started from a shell that exported the real key
    asNobody(['tmux', '-S', socket, 'new-session', '-d', 'sleep 600'], { OPENAI_API_KEY: canary });
    // by pid: the folder (and with it the socket) may be removed before this runs
    const server = Number(asNobody(['tmux', '-S', socket, 'display-message', '-p', '#{pid}']).trim());
    t.after(() => {
      try {
        process.kill(server, 'SIGTERM');
      } catch {
        // already gone
      }
    });
    // positive control: the same user on the host reads the key and runs a command through it
    assert.match(
      asNobody(['tmux', '-S', socket, 'show-environment', '-g', 'OPENAI_API_KEY']),
      new RegExp(canary),
    );

    const sb = await testSandbox(t); // guest user: nobody, the same uid as the tmux server
    const show = await sb.exec(['tmux', '-S', socket, 'show-environment', '-g', 'OPENAI_API_KEY']);
    assert.notEqual(show.status, 0);
    assert.ok(!show.stdout.includes(canary) && !show.stderr.includes(canary), 'the key leaked through tmux');
    const run = await sb.exec(['tmux', '-S', socket, 'run-shell', `touch ${marker}`]);
    assert.notEqual(run.status, 0);
    assert.equal(existsSync(marker), false, 'tmux ran a command on the host for the guest');
    const look = await sb.exec(['ls', dir]);
    assert.match(look.stderr, /No such file or directory/, "the host's /tmp is not in the guest's view");
  },
);

test(
  'a world-writable unix socket and an abstract socket on the host are unreachable',
  { skip: needsRoot },
  async (t) => {
    const dir = hostTmp(t, 'airlock-sock-');
    const path = join(dir, 'service.sock');
    const abstract = `\0airlock-test-${randomBytes(6).toString('hex')}`;
    let hits = 0;
    const servers = [path, abstract].map((address) => {
      const server = createServer((s) => {
        hits++;
        s.end('hello\n');
      });
      server.listen(address);
      t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
      return server;
    });
    await Promise.all(servers.map((s) => new Promise((resolve) => s.once('listening', resolve))));
    chmodSync(path, 0o777);
    // positive control: both answer on the host, for anyone
    for (const address of [path, abstract]) {
      const reply = await new Promise<string>((resolve, reject) => {
        const c = createConnection(address);
        c.once('data', (b) => resolve(b.toString()));
        c.once('error', reject);
      });
      assert.equal(reply, 'hello\n');
    }
    assert.equal(hits, 2);

    // as root without SUDO_UID (the guest is nobody) and with it (the guest is the caller)
    for (const sudo of [{}, { SUDO_UID: '4321', SUDO_GID: '4321' }]) {
      const sb = await testSandbox(t, { invokingEnv: { PATH: process.env.PATH, ...sudo } });
      const script = `const net = require('net');
        const one = (a) => new Promise((r) => { const c = net.createConnection(a); c.once('data', () => r('CONNECTED')); c.once('error', (e) => r(e.code)); });
        Promise.all([one(${JSON.stringify(path)}), one(${JSON.stringify(abstract)})]).then((r) => console.log(r.join(' ')));`;
      const r = await sb.exec(['node', '-e', script]);
      assert.equal(r.stdout.trim(), 'ENOENT ECONNREFUSED', `uid ${sb.user.uid}: ${r.stderr}`);
    }
    assert.equal(hits, 2, 'no connection from the guest reached a host socket');
  },
);

test(
  "a file or socket airlock's caller left open across exec does not pass into the guest",
  { skip: needsRoot },
  async (t) => {
    const canary = `CANARY_${randomBytes(12).toString('hex')}`;
    const dir = hostTmp(t, 'airlock-fd-');
    const secret = join(dir, 'secret');
    writeFileSync(secret, `${canary}\n`, { mode: 0o600 });
    const file = openSync(secret, 'r');
    t.after(() => closeSync(file));
    // a host service the caller holds a connection to (a tmux client, an ssh-agent, ...)
    let received = '';
    const server = createServer((s) => s.on('data', (b: Buffer) => (received += b.toString())));
    await new Promise<void>((resolve) => server.listen(join(dir, 'service.sock'), resolve));
    const client = createConnection(join(dir, 'service.sock'));
    t.after(() => {
      client.destroy(); // first: the server's close waits for its connections
      return new Promise<void>((resolve) => server.close(() => resolve()));
    });
    await new Promise((resolve) => client.once('connect', resolve));

    // airlock gets them as descriptors 20 and 21, without close-on-exec, as from a shell's
    // `20<file` (Node marks only its lowest inherited ones close-on-exec)
    const look = 'ls /proc/self/fd | tr "\\n" " "; echo; cat <&20; echo ESCAPED >&21; echo DONE';
    const stdio = [
      'ignore',
      'pipe',
      'pipe',
      ...Array.from({ length: 17 }, () => 'ignore' as const),
      file,
      client,
    ] as const;
    const child = spawn(process.execPath, ['--import', 'tsx', BIN, 'run', '--', 'bash', '-c', look], {
      env: { ...process.env, AIRLOCK_HOME: tempHome(t) },
      stdio: [...stdio],
    });
    let out = '';
    child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
    const status = await new Promise((resolve) => child.once('close', resolve));
    assert.match(out, /DONE/, `the guest ran: ${out}`);
    assert.equal(status, 0);
    assert.equal(out.split('\n')[0]!.trim(), '0 1 2 3', `the guest's descriptors: ${out}`);
    assert.ok(!out.includes(canary), 'the file reached the guest');
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(received, '', 'the socket reached the guest');
    // positive control: the same descriptors work for a process started without airlock
    const control = spawn('bash', ['-c', 'cat <&20; echo CONTROL >&21'], { stdio: [...stdio] });
    let controlOut = '';
    control.stdout!.on('data', (b: Buffer) => (controlOut += b.toString()));
    await new Promise((resolve) => control.once('close', resolve));
    assert.equal(controlOut, `${canary}\n`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(received, 'CONTROL\n');
  },
);
