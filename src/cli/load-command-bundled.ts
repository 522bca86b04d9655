import { fileURLToPath } from 'node:url';
import { codeCacheDir, loadCommonJs } from './code-cache.js';
import type { CommandModules } from './load-command.js';

/**
 * load-command.ts in the bundled executable: each command is a CommonJS bundle of its own
 * (dist/bin/NAME.cjs), compiled with the V8 code cache of earlier runs (code-cache.ts).
 */
export function loadCommand<N extends keyof CommandModules>(name: N): Promise<CommandModules[N]> {
  const file = fileURLToPath(new URL(`./${name}.cjs`, import.meta.url));
  return Promise.resolve(loadCommonJs(file, codeCacheDir(process.env)) as CommandModules[N]);
}
