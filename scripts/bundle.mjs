// Bundles the `airlock` executable into dist/bin/: one entry, the audit writer's worker, and
// chunks for the commands main.ts loads lazily. Node then reads a few large files instead of
// ~250 small modules, which is most of a command's start-up time. The library (dist/index.js,
// from tsc) stays unbundled. better-sqlite3 stays outside: it is a native module.
import { build } from 'esbuild';
import { chmodSync, rmSync } from 'node:fs';

const outdir = 'dist/bin';
rmSync(outdir, { recursive: true, force: true }); // chunks of an earlier build must not ship
await build({
  entryPoints: { airlock: 'src/cli/bin.ts', 'audit-worker': 'src/audit/audit-worker.ts' },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.18',
  external: ['better-sqlite3'],
  // bundled CommonJS packages call require(); an ES module has none of its own
  banner: {
    js: "import { createRequire as __airlockRequire } from 'node:module';\nconst require = __airlockRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
chmodSync(`${outdir}/airlock.js`, 0o755);
