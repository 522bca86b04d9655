import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, watch } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { openState } from '../src/sandbox/state.js';
import { leftovers } from './helpers/fake-internet.js';
import { runCli, startCli } from './helpers/cli.js';
import { needsRoot, tempHome } from './helpers/sandbox-bench.js';

const nothingLeft = { netns: [], links: [], elements: 0, cgroups: [] };

/** Host processes whose command line contains `marker`. */
function processesWith(marker: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes(marker)) found.push(pid);
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

/** Resolves with the first stdout line matching `pattern`. */
function waitForLine(stream: NodeJS.ReadableStream, pattern: RegExp): Promise<RegExpExecArray> {
  return new Promise((resolve) => {
    let text = '';
    stream.on('data', (b: Buffer) => {
      text += b.toString();
      const m = pattern.exec(text);
      if (m) resolve(m);
    });
  });
}

test('kill -9 of airlock takes the guest down with it', { skip: needsRoot, timeout: 60_000 }, async (t) => {
  // not tempHome: its removal would run before the gc below, which would then make it anew
  const home = mkdtempSync(join(tmpdir(), 'airlock-test-'));
  const half = 300_000 + randomInt(49_999);
  const marker = String(2 * half + 1); // computed in the guest, so only the sleep's argv holds it
  // the guest keeps calling its proxy; a process that later takes the orphaned gateway
  // address must hear nothing from it
  const script = `while :; do curl -s -m 1 "$AIRLOCK_PROXY_URL/ping" >/dev/null 2>&1; sleep 0.1; done & sleep $((${half} * 2 + 1)) & echo "ready $AIRLOCK_PROXY_URL"; wait`;
  const { child, done } = startCli(['run', '--no-workdir', '--', 'sh', '-c', script], { AIRLOCK_HOME: home });
  // what the kernel keeps after a crash goes with gc, also when an assertion below fails; then the home
  t.after(async () => {
    child.kill('SIGKILL');
    await runCli(['gc'], { AIRLOCK_HOME: home });
    rmSync(home, { recursive: true, force: true });
  });
  const [, proxyUrl] = await waitForLine(child.stdout!, /ready (http:\/\/\S+)\n/);
  for (let i = 0; i < 50 && processesWith(marker).length === 0; i++) await sleep(20);
  assert.equal(processesWith(marker).length, 1, 'control: the guest runs');
  child.kill('SIGKILL');
  await done;
  let left = processesWith(marker);
  for (let i = 0; i < 30 && left.length > 0; i++) {
    await sleep(100);
    left = processesWith(marker);
  }
  assert.deepEqual(left, [], 'the guest outlived airlock by 3 s');

  const { hostname, port } = new URL(proxyUrl!);
  let heard = 0;
  const impostor = createServer((s) => {
    heard++;
    s.destroy();
  });
  await new Promise<void>((resolve) => impostor.listen({ host: hostname, port: Number(port) }, resolve));
  await sleep(1500);
  await new Promise<void>((resolve) => impostor.close(() => resolve()));
  assert.equal(heard, 0, 'a dead guest still sent requests to the gateway');

  // what the kernel kept (namespace, link, element, cgroup) goes with the next gc
  const gc = await runCli(['gc', '--json'], { AIRLOCK_HOME: home });
  const report = JSON.parse(gc.stdout) as { sandboxes: string[]; cgroups: string[] };
  assert.equal(report.sandboxes.length, 1, gc.stdout);
  assert.deepEqual(await leftovers(), nothingLeft);
});

test(
  'SIGTERM or Ctrl-C during setup removes everything made so far',
  { skip: needsRoot, timeout: 120_000 },
  async (t) => {
    const home = tempHome(t);
    for (const [signal, when] of [
      ['SIGTERM', 'namespace'],
      ['SIGINT', 'namespace'],
      ['SIGTERM', 'link'],
    ] as const) {
      const links = new Set(readdirSync('/sys/class/net'));
      const namespaces = new Set(safeList('/run/netns'));
      // inotify tells the moment this run's namespace file appears, before anything else of it
      mkdirSync('/run/netns', { recursive: true });
      const appeared = new Promise<void>((resolve) => {
        const watcher = watch('/run/netns', (_event, name) => {
          if (!name?.startsWith('airlock-') || namespaces.has(name)) return;
          watcher.close();
          resolve();
        });
      });
      const { child, done } = startCli(['run', '--no-workdir', '--', 'true'], { AIRLOCK_HOME: home });
      // the whole build takes ~10 ms: hold airlock where it is, and strike there
      await appeared;
      child.kill('SIGSTOP');
      if (when === 'link') {
        child.kill('SIGCONT');
        const deadline = Date.now() + 5000;
        while (!readdirSync('/sys/class/net').some((n) => n.startsWith('al-') && !links.has(n))) {
          if (Date.now() > deadline) break; // the assertions below say what happened
        }
        child.kill('SIGSTOP');
      }
      child.kill(signal);
      child.kill('SIGCONT');
      const r = await done;
      assert.match(r.stderr, new RegExp(`interrupted by ${signal}; nothing was left behind`), r.stderr);
      assert.equal(r.status, signal === 'SIGTERM' ? 143 : 130);
      assert.deepEqual(await leftovers(), nothingLeft, `${signal} at ${when}`);
      const state = openState(home);
      assert.deepEqual(state.sandboxes.live(), [], 'no live record is left');
      state.close();
    }
  },
);

test(
  'a guest that ignores SIGTERM is killed after the grace period',
  { skip: needsRoot, timeout: 60_000 },
  async (t) => {
    const home = tempHome(t);
    const { child, done } = startCli(
      [
        'run',
        '--no-workdir',
        '--grace',
        '1s',
        '--',
        'sh',
        '-c',
        'trap "echo ignored" TERM; echo ready; while :; do sleep 0.1; done',
      ],
      { AIRLOCK_HOME: home },
    );
    t.after(() => child.kill('SIGKILL'));
    await waitForLine(child.stdout!, /ready\n/);
    child.kill('SIGTERM');
    const r = await done;
    assert.match(r.stdout, /ignored/, 'control: the guest got the SIGTERM first');
    assert.equal(r.status, 137);
    assert.deepEqual(await leftovers(), nothingLeft);
  },
);

test('a second Ctrl-C kills at once', { skip: needsRoot, timeout: 60_000 }, async (t) => {
  const home = tempHome(t);
  // a grace period far longer than the test's time-out: only the second signal can end it
  const { child, done } = startCli(
    [
      'run',
      '--no-workdir',
      '--grace',
      '1h',
      '--',
      'sh',
      '-c',
      'trap "echo got-INT" INT; echo ready; while :; do sleep 0.1; done',
    ],
    { AIRLOCK_HOME: home },
  );
  t.after(() => child.kill('SIGKILL'));
  await waitForLine(child.stdout!, /ready\n/);
  child.kill('SIGINT');
  await waitForLine(child.stdout!, /got-INT\n/);
  child.kill('SIGINT');
  const r = await done;
  assert.equal(r.status, 137);
  assert.deepEqual(await leftovers(), nothingLeft);
});

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
