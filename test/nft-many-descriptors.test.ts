import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FD_SETSIZE } from '../src/net/low-descriptors.js';
import { collectGarbage } from '../src/sandbox/gc.js';
import { openState } from '../src/sandbox/state.js';
import { leftovers } from './helpers/fake-internet.js';
import { needsRoot } from './helpers/sandbox-bench.js';

const CHILD = new URL('./fixtures/nft-descriptors-child.ts', import.meta.url).pathname;
const ENGINE_CHILD = new URL('./fixtures/engine-connections-child.ts', import.meta.url).pathname;
/** more than FD_SETSIZE, from one guest */
const CONNECTIONS = 1_100;

/** Runs the child against a scratch namespace of its own, removed afterwards. */
function child(when: 'after' | 'before') {
  const netns = `airlock-fdtest-${process.pid}`;
  execFileSync('ip', ['netns', 'add', netns]);
  try {
    const r = spawnSync(process.execPath, ['--import', 'tsx', CHILD, netns, when], { encoding: 'utf8' });
    return { signal: r.signal, status: r.status, stderr: r.stderr, out: r.stdout.trim() };
  } finally {
    execFileSync('ip', ['netns', 'delete', netns]);
  }
}

test(
  'a process holding more than FD_SETSIZE descriptors still applies nftables rules',
  { skip: needsRoot },
  () => {
    // libnftables select()s on its netlink socket; one numbered 1,024 or more made glibc
    // abort the whole engine (an engine holds a descriptor per guest connection)
    const r = child('after');
    assert.equal(r.signal, null, `no abort: ${r.stderr}`);
    const { highest, echo, error } = JSON.parse(r.out) as { highest: number; echo?: string; error?: string };
    assert.ok(highest >= FD_SETSIZE + 50, `control: the process held descriptors up to ${highest}`);
    assert.equal(error, undefined, 'every transaction applied');
    assert.match(echo!, /airlock_fd_test/);
  },
);

test(
  'with every low descriptor taken before airlock loaded, nftables is a clear error, not an abort',
  { skip: needsRoot },
  () => {
    const r = child('before');
    assert.equal(r.signal, null, `no abort: ${r.stderr}`);
    const { error } = JSON.parse(r.out) as { error: string };
    assert.equal(
      error,
      `AIRLOCK_ERR_NET_SETUP: nft: every file descriptor below ${FD_SETSIZE} is in use, and nftables can wait on no other`,
    );
  },
);

test(
  "a guest holding a thousand connections to its proxy cannot crash its engine's next sandbox",
  { skip: needsRoot },
  async (t) => {
    const home = mkdtempSync(join(tmpdir(), 'airlock-test-'));
    // an abort leaves the child's sandboxes behind: gc takes them, then the state goes
    t.after(async () => {
      const state = openState(home);
      await collectGarbage(state);
      state.close();
      rmSync(home, { recursive: true, force: true });
    });
    const child = spawn(process.execPath, ['--import', 'tsx', ENGINE_CHILD, home, String(CONNECTIONS)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const [status, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
    assert.deepEqual({ status, signal }, { status: 0, signal: null }, err);
    const { fds, exitCode } = JSON.parse(out) as { fds: number; exitCode: number };
    assert.ok(fds > FD_SETSIZE, `control: the engine held ${fds} descriptors`);
    assert.equal(exitCode, 0, 'the second sandbox ran its command');
    assert.deepEqual(await leftovers(), { netns: [], links: [], elements: 0, cgroups: [] });
  },
);
