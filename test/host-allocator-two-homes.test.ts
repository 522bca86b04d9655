import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ip } from '../src/net/ip.js';
import { runCli } from './helpers/cli.js';
import { leftoversOf, sandboxHome } from './helpers/home-leftovers.js';
import { startWorker, type LineWorker } from './helpers/line-worker.js';
import { needsRoot } from './helpers/sandbox-bench.js';

const SANDBOX = fileURLToPath(new URL('../src/sandbox/sandbox.ts', import.meta.url));
/** `count` sandboxes recorded, nothing of them left in the kernel */
const nothingLeftOf = (count: number) => ({
  recorded: count,
  netns: [],
  links: [],
  elements: [],
  cgroups: [],
});

test(
  'two AIRLOCK_HOMEs started together, three times: every run succeeds',
  { skip: needsRoot },
  async (t) => {
    const homes = [sandboxHome(t), sandboxHome(t)];
    for (let round = 1; round <= 3; round++) {
      const runs = await Promise.all(
        homes.map((home) => runCli(['run', '--', 'true'], { AIRLOCK_HOME: home })),
      );
      for (const r of runs) assert.equal(r.status, 0, `round ${round}: ${r.stderr}`);
      assert.deepEqual(
        await leftoversOf(homes),
        nothingLeftOf(2 * round),
        `round ${round} left nothing behind`,
      );
    }
  },
);

/** Waits for `go`, makes `count` sandboxes in `home` at once, prints them, closes them when its stdin ends. */
const creator = (home: string, count: number) => `import { createInterface } from 'node:readline';
  import { Sandbox } from ${JSON.stringify(SANDBOX)};
  const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  console.log('ready');
  await lines.next();
  const made = await Promise.allSettled(
    Array.from({ length: ${count} }, () => Sandbox.create({ home: ${JSON.stringify(home)} })),
  );
  console.log(JSON.stringify(made.map((r) =>
    r.status === 'fulfilled' ? { gateway: r.value.gateway, link: r.value.hostInterface } : { error: String(r.reason) },
  )));
  await lines.next();
  await Promise.all(made.flatMap((r) => (r.status === 'fulfilled' ? [r.value.close()] : [])));
  console.log('closed');`;

test(
  'sandboxes made at once by two processes with two homes get distinct /30s and links',
  { skip: needsRoot },
  async (t) => {
    const perHome = 4;
    const workers: LineWorker[] = [];
    t.after(() => Promise.all(workers.map((w) => w.stop())));
    const homes = [sandboxHome(t), sandboxHome(t)];
    for (const home of homes) workers.push(startWorker(creator(home, perHome)));
    for (const w of workers) assert.equal(await w.next(), 'ready');
    for (const w of workers) w.send('go');
    const made = (await Promise.all(workers.map((w) => w.next()))).flatMap(
      (line) => JSON.parse(line) as { gateway?: string; link?: string; error?: string }[],
    );
    assert.deepEqual(
      made.filter((m) => m.error !== undefined),
      [],
      'every sandbox was made',
    );
    // one gateway per /30: distinct gateways are distinct slots
    const gateways = made.map((m) => m.gateway);
    assert.equal(new Set(gateways).size, 2 * perHome, `distinct /30s: ${gateways.join(' ')}`);
    assert.equal(new Set(made.map((m) => m.link)).size, 2 * perHome, 'distinct links');
    // the kernel agrees: each gateway is on its own sandbox's link and on no other
    const onHost = JSON.parse(await ip(['-4', '-j', 'addr', 'show'])) as {
      ifname: string;
      addr_info: { local: string }[];
    }[];
    for (const m of made) {
      const holders = onHost
        .filter((l) => l.addr_info.some((a) => a.local === m.gateway))
        .map((l) => l.ifname);
      assert.deepEqual(holders, [m.link], `${m.gateway} is on ${m.link} only`);
    }

    for (const w of workers) w.end();
    for (const w of workers) assert.equal(await w.next(), 'closed');
    assert.deepEqual(await Promise.all(workers.map((w) => w.exited)), [0, 0]);
    assert.deepEqual(await leftoversOf(homes), nothingLeftOf(2 * perHome));
  },
);
