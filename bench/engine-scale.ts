/**
 * Many idle sandboxes in one engine: creates N (default 1,000) sandboxes, each with a granted
 * credential and its proxy listening, and reports the engine's memory per idle sandbox (RSS
 * and V8 heap after a full GC, against the engine with none, in the same run), the create
 * rate, one sandbox's proxy still answering at the end, and the remove rate.
 * Run as root: `npm run bench:engine -- [--count N]`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parseConfig } from '../src/config/load-config.js';
import { Engine, type EngineSandbox } from '../src/engine/engine.js';

const countArg = process.argv.indexOf('--count');
const COUNT = countArg > 0 ? Number(process.argv[countArg + 1]) : 1000;
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function memory(): { rss: number; heap: number } {
  for (let i = 0; i < 3; i++) gc();
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed + m.external + m.arrayBuffers };
}

/** A request from the host to a sandbox's proxy: its gateway answers with airlock's JSON refusal. */
function probe(sandbox: EngineSandbox): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${sandbox.proxyUrl}/`, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

const home = mkdtempSync(join(tmpdir(), 'airlock-bench-'));
const engine = await Engine.open({
  home,
  config: parseConfig({ pool: '10.240.0.0/16' }),
  invokingEnv: { ...process.env, OPENAI_API_KEY: 'sk-bench-not-a-key' },
});
const sandboxes: EngineSandbox[] = [];
try {
  // one sandbox first, so what every later one shares (modules, JIT code) is in the baseline
  sandboxes.push(await engine.create({ credentials: ['OPENAI_API_KEY'], profiles: ['llm-only'] }));
  const before = memory();
  const t0 = performance.now();
  while (sandboxes.length < COUNT) {
    sandboxes.push(await engine.create({ credentials: ['OPENAI_API_KEY'], profiles: ['llm-only'] }));
  }
  const createS = (performance.now() - t0) / 1000;
  const after = memory();
  const status = await probe(sandboxes[0]!);
  const added = COUNT - 1;
  const t1 = performance.now();
  await Promise.all(sandboxes.splice(0).map((s) => s.close()));
  const removeS = (performance.now() - t1) / 1000;
  console.log(
    JSON.stringify(
      {
        sandboxes: COUNT,
        rssPerSandboxKiB: Math.round((after.rss - before.rss) / added / 1024),
        heapPerSandboxKiB: Math.round((after.heap - before.heap) / added / 1024),
        engineRssMiB: Math.round(after.rss / 2 ** 20),
        createPerSecond: Number((added / createS).toFixed(1)),
        removePerSecond: Number((COUNT / removeS).toFixed(1)),
        firstProxyAnswersAtEnd: status,
      },
      null,
      2,
    ),
  );
} finally {
  await Promise.allSettled(sandboxes.map((s) => s.close()));
  await engine.close();
  rmSync(home, { recursive: true, force: true });
}
