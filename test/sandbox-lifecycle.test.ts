import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AirlockError } from '../src/errors.js';
import { checkHostEcho } from '../src/sandbox/firewall.js';
import { Engine } from '../src/engine/engine.js';
import { NETNS_RUN_DIR } from '../src/net/netns.js';
import { Sandbox } from '../src/sandbox/sandbox.js';
import { LINK_GONE_MS } from '../src/sandbox/resources.js';
import { openState } from '../src/sandbox/state.js';
import { collectGarbage } from '../src/sandbox/gc.js';
import { leftovers } from './helpers/fake-internet.js';
import { countSpawns } from './helpers/spawn-counter.js';
import { needsRoot, tempHome } from './helpers/sandbox-bench.js';

const nothingLeft = { netns: [], links: [], elements: 0, cgroups: [] };

test(
  'create, exec and close leave no namespace, link, element or slot behind',
  { skip: needsRoot },
  async (t) => {
    const home = tempHome(t);
    const state = openState(home);
    t.after(() => state.close());
    {
      await using sb = await Sandbox.create({ state });
      assert.match(sb.hostInterface, /^al-[0-9a-f]{8}$/);
      assert.ok(sb.hostInterface.length <= 15);
      const during = await leftovers();
      assert.deepEqual(during.netns, [sb.netns], 'control: the namespace exists while open');
      assert.equal(during.elements, 1);
      assert.equal(state.sandboxes.live().length, 1);
      const r = await sb.exec(['sh', '-c', 'echo out; echo err >&2; exit 7']);
      assert.deepEqual(r, { status: 7, stdout: 'out\n', stderr: 'err\n' });
    }
    assert.deepEqual(await leftovers(), nothingLeft);
    assert.equal(state.sandboxes.live().length, 0);
  },
);

test(
  'close removes the link even while something holds the deleted namespace open',
  { skip: needsRoot },
  async (t) => {
    // teardown deletes the namespace and lets the kernel take the veth pair with it; a
    // namespace kept alive by an open handle would keep the pair, so the link goes by hand
    const sb = await Sandbox.create({ home: tempHome(t) });
    const handle = openSync(join(NETNS_RUN_DIR, sb.netns), 'r');
    t.after(() => closeSync(handle));
    const started = Date.now();
    await sb.close();
    assert.ok(Date.now() - started >= LINK_GONE_MS, 'control: the namespace outlived its name');
    assert.deepEqual(await leftovers(), nothingLeft);
  },
);

test(
  'close kills a process that entered the namespace outside the cgroup, and leaves nothing',
  { skip: needsRoot },
  async (t) => {
    const sb = await Sandbox.create({ home: tempHome(t) });
    // not the guest's: `ip netns exec` from the host, so no cgroup holds it
    const stray = spawn('ip', ['netns', 'exec', sb.netns, 'sleep', '30'], { stdio: 'ignore' });
    t.after(() => stray.kill('SIGKILL'));
    const ended = new Promise<NodeJS.Signals | null>((resolve) => stray.once('exit', (_c, s) => resolve(s)));
    await new Promise((resolve) => setTimeout(resolve, 100)); // it has entered the namespace
    assert.equal(stray.exitCode, null, 'control: it runs');
    await sb.close();
    assert.equal(await ended, 'SIGKILL');
    assert.deepEqual(await leftovers(), nothingLeft);
  },
);

test(
  'exit statuses: 127 when not found, 128+n on a signal, working directory and env',
  { skip: needsRoot },
  async (t) => {
    await using sb = await Sandbox.create({ home: tempHome(t), env: { FROM_OPTIONS: 'yes' } });
    assert.equal((await sb.exec(['no-such-command-xyz'])).status, 127);
    assert.equal((await sb.exec(['sh', '-c', 'kill -TERM $$'])).status, 128 + 15);
    const workdir = tempHome(t);
    const pwd = await sb.exec(['sh', '-c', 'pwd; echo $FROM_OPTIONS $EXTRA'], {
      workdir,
      env: { EXTRA: 'x' },
    });
    assert.equal(pwd.stdout, `${workdir}\nyes x\n`);
    const guest = sb.spawn(['sleep', '30']);
    setTimeout(() => guest.signal('SIGINT'), 200);
    assert.equal(await guest.exited, 128 + 2, 'SIGINT reaches the guest command');
  },
);

test(
  'fail closed: a build step that fails removes everything and frees the slot',
  { skip: needsRoot },
  async (t) => {
    const home = tempHome(t);
    const state = openState(home);
    t.after(() => state.close());
    for (const failAt of ['link', 'network'] as const) {
      let netns = '';
      await assert.rejects(
        Sandbox.create({
          state,
          onBuildStep: (step) => {
            if (step !== failAt) return;
            netns = state.sandboxes.live()[0]!.netns;
            throw new AirlockError('AIRLOCK_ERR_NET_SETUP', `injected fault after ${step}`);
          },
        }),
        (e: unknown) => e instanceof AirlockError && e.message === `injected fault after ${failAt}`,
      );
      assert.notEqual(netns, '', `control: the build reached ${failAt}`);
      assert.deepEqual(await leftovers(), nothingLeft, `after a fault at ${failAt}`);
      assert.equal(state.sandboxes.live().length, 0);
    }
  },
);

test("the host rules are checked against the kernel's echo of the transaction", () => {
  const entry = { hostIf: 'al-0000abcd', guest: '10.209.0.2', gateway: '10.209.0.1', proxyPort: 9090 };
  const echo = [
    'add rule inet airlock input iifname "al-*" jump from_sandbox',
    'add rule inet airlock from_sandbox iifname . ip saddr . ip daddr . tcp dport @allowed accept',
    'add rule inet airlock from_sandbox reject with icmpx admin-prohibited',
    'add rule inet airlock forward oifname "al-*" drop',
    'add element inet airlock allowed { "al-0000abcd" . 10.209.0.2 . 10.209.0.1 . 9090 }',
  ];
  checkHostEcho(echo.join('\n'), entry);
  for (const [i, line] of echo.entries()) {
    assert.throws(
      () => checkHostEcho(echo.filter((_, j) => j !== i).join('\n'), entry),
      (e: unknown) => e instanceof AirlockError && e.code === 'AIRLOCK_ERR_NFT_VERIFY',
      `a commit without: ${line}`,
    );
  }
});

test('an exhausted pool is a clear error naming its size', { skip: needsRoot }, async (t) => {
  const home = tempHome(t);
  const state = openState(home);
  t.after(() => state.close());
  await using first = await Sandbox.create({ state, pool: '10.209.128.0/30' });
  assert.equal(first.gateway, '10.209.128.1');
  await assert.rejects(
    Sandbox.create({ state, pool: '10.209.128.0/30' }),
    (e: unknown) =>
      e instanceof AirlockError &&
      e.code === 'AIRLOCK_ERR_POOL_EXHAUSTED' &&
      /10\.209\.128\.0\/30.*all 1 /.test(e.message),
  );
});

test(
  'gc removes what a killed airlock left behind, and leaves other homes alone',
  { skip: needsRoot },
  async (t) => {
    const home = tempHome(t);
    const otherHome = tempHome(t);
    await using other = await Sandbox.create({ home: otherHome });
    // an airlock process that builds a sandbox and is then killed with SIGKILL
    const script = `import { Sandbox } from ${JSON.stringify(fileURLToPath(new URL('../src/sandbox/sandbox.ts', import.meta.url)))};
    const sb = await Sandbox.create({ home: ${JSON.stringify(home)} });
    sb.spawn(['sleep', '300']);
    console.log(sb.netns);
    setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const netns = await new Promise<string>((resolve) =>
      child.stdout.once('data', (b: Buffer) => resolve(b.toString().trim())),
    );
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('close', resolve));
    assert.ok((await leftovers()).netns.includes(netns), 'control: the crashed run left its namespace');

    const state = openState(home);
    t.after(() => state.close());
    const report = await collectGarbage(state);
    assert.equal(report.sandboxes.length, 1);
    const after = await leftovers();
    assert.deepEqual(after.netns, [other.netns], 'only the other home’s sandbox remains');
    assert.deepEqual(after.cgroups, [other.id], 'the crashed sandbox’s cgroup went, the other stayed');
    assert.equal(after.elements, 1);
    assert.equal((await other.exec(['true'])).status, 0, 'the other home’s sandbox still works');
  },
);

test('an engine builds and removes a sandbox without starting a process', { skip: needsRoot }, async (t) => {
  const engine = await Engine.open({ home: tempHome(t) });
  t.after(() => engine.close());
  const spawns = countSpawns();
  t.after(() => spawns.stop());
  // the first sandbox also starts the engine's one listing of stale set elements
  await (await engine.create()).close();
  const sandbox = await engine.create();
  assert.equal((await sandbox.exec(['true'])).exitCode, 0, 'control: the sandbox works');
  const execs = spawns.count();
  await sandbox.close();
  // namespace, link, addresses and both rulesets through netlink and libnftables in this
  // process; the one process is the guest's command
  assert.deepEqual({ execs, total: spawns.count() }, { execs: 1, total: 1 });
  assert.deepEqual(await leftovers(), nothingLeft);
});
