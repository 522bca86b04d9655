import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startCli } from './helpers/cli.js';
import { daemonHome, socketDir, startDaemon } from './helpers/daemon.js';
import { leftoversOf } from './helpers/home-leftovers.js';
import { needsRoot } from './helpers/sandbox-bench.js';

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

const nothing = { netns: [], links: [], elements: [], cgroups: [] };

test(
  'kill -9 of the daemon takes its guests down; gc and a restart leave nothing of its sandboxes',
  { skip: needsRoot, timeout: 180_000 },
  async (t) => {
    const home = daemonHome(t);
    const dir = socketDir(t);
    const socket = join(dir, 'airlock.sock');
    const config = join(dir, 'config.json');
    writeFileSync(config, '{}');
    const first = await startDaemon(t, { home, socket, args: ['--config', config] });
    const env = { AIRLOCK_HOME: home, AIRLOCK_SOCKET: socket };
    assert.equal((await first.cli(['create', '--name', 'c'])).status, 0);

    // the sleep's argv holds the marker only once the guest computed it
    const half = 300_000 + randomInt(49_999);
    const marker = String(2 * half + 1);
    const guest = startCli(['exec', 'c', '--', 'sh', '-c', `echo ready; sleep $((${half} * 2 + 1))`], env);
    t.after(() => guest.child.kill('SIGKILL'));
    await new Promise<void>((resolve) => guest.child.stdout!.once('data', () => resolve()));
    for (let i = 0; i < 50 && processesWith(marker).length === 0; i++) await sleep(20);
    assert.equal(processesWith(marker).length, 1, 'control: the guest runs');

    first.child.kill('SIGKILL');
    await first.exited;
    let left = processesWith(marker);
    for (let i = 0; i < 30 && left.length > 0; i++) {
      await sleep(100);
      left = processesWith(marker);
    }
    assert.deepEqual(left, [], 'the guest outlived its daemon by 3 s');
    const cut = await guest.done;
    assert.equal(cut.status, 125);
    assert.match(
      cut.stderr,
      /the daemon ended the command without an exit status.*AIRLOCK_ERR_DAEMON_UNREACHABLE/,
    );

    // the socket file stays behind; a client gets a clear error, not a hang
    assert.equal(existsSync(socket), true, 'control: kill -9 leaves the socket file');
    const refused = await first.cli(['exec', 'c', '--', 'true']);
    assert.equal(refused.status, 125);
    assert.match(refused.stderr, /no airlock daemon answers on .*AIRLOCK_ERR_DAEMON_UNREACHABLE/);
    assert.match(refused.stderr, /hint: start it with: airlock daemon/);

    // what the kernel kept is there until gc (the guest is not: it died with the daemon)
    const kept = await leftoversOf([home]);
    assert.equal(kept.netns.length, 1, 'control: the namespace outlives a kill -9');
    const gc = await first.cli(['gc', '--json']);
    assert.equal((JSON.parse(gc.stdout) as { sandboxes: string[] }).sandboxes.length, 1, gc.stdout);
    assert.deepEqual({ ...(await leftoversOf([home])), recorded: 0 }, { recorded: 0, ...nothing });

    // a new daemon takes over the stale socket; the old sandbox is gone for it too
    const second = await startDaemon(t, { home, socket, args: ['--config', config] });
    const unknown = await second.cli(['exec', 'c', '--', 'true']);
    assert.match(unknown.stderr, /AIRLOCK_ERR_SANDBOX_UNKNOWN/);

    // one daemon per socket
    const third = startCli(['daemon', '--config', config], env);
    t.after(() => third.child.kill('SIGKILL'));
    const refusedStart = await third.done;
    assert.equal(refusedStart.status, 125);
    assert.match(refusedStart.stderr, /already answers on .*AIRLOCK_ERR_DAEMON_RUNNING/);

    // SIGHUP re-reads the config: a valid one is reported, a broken one is refused, and the
    // daemon and its sandboxes carry on either way
    assert.equal((await second.cli(['create', '--name', 'd'])).status, 0);
    second.child.kill('SIGHUP');
    for (let i = 0; i < 50 && !second.log().includes('SIGHUP: config'); i++) await sleep(50);
    assert.match(second.log(), /SIGHUP: config \S+ re-read and valid; not applied/);
    writeFileSync(config, '{"pool": 7}');
    second.child.kill('SIGHUP');
    for (let i = 0; i < 50 && !second.log().includes('not valid'); i++) await sleep(50);
    assert.match(second.log(), /SIGHUP: config not valid, keeping the running one: .*pool/);
    const still = await second.cli(['exec', 'd', '--', 'sh', '-c', 'exit 4']);
    assert.equal(still.status, 4, still.stderr);

    // a second kill -9, and this time the next start cleans up (no gc in between)
    second.child.kill('SIGKILL');
    await second.exited;
    assert.equal((await leftoversOf([home])).netns.length, 1, 'control: d outlived the kill -9');
    writeFileSync(config, '{}');
    const fourth = await startDaemon(t, { home, socket, args: ['--config', config] });
    assert.deepEqual({ ...(await leftoversOf([home])), recorded: 0 }, { recorded: 0, ...nothing });
    fourth.child.kill('SIGTERM');
    assert.equal((await fourth.exited).status, 0);
  },
);
