import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/**
 * Bundles a fixture script with its npm dependencies (the official SDKs) into one
 * self-contained file in a world-readable temp folder, so an unprivileged guest runs it
 * without reading the checkout or its node_modules.
 */
export async function bundleForGuest(t: TestContext, fixture: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-guest-bundle-'));
  chmodSync(dir, 0o755);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
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
