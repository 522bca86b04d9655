import { chmodSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { shareDir } from './sandbox-bench.js';

/**
 * Bundles a fixture script with its npm dependencies (the official SDKs) into one
 * self-contained file in the guest share (see sandbox-bench.ts), so an unprivileged guest
 * runs it without reading the checkout or its node_modules.
 */
export async function bundleForGuest(t: TestContext, fixture: string): Promise<string> {
  const dir = shareDir(t, 'bundle-');
  const entry = fileURLToPath(new URL(`../fixtures/${fixture}`, import.meta.url));
  const outfile = join(dir, basename(fixture).replace(/\.[cm]?[jt]s$/, '.mjs'));
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'silent',
    // some SDK dependencies are CommonJS and call require(); give the ESM bundle one
    banner: {
      js: "import { createRequire as __airlockCreateRequire } from 'node:module'; const require = __airlockCreateRequire(import.meta.url);",
    },
  });
  chmodSync(outfile, 0o644);
  return outfile;
}
