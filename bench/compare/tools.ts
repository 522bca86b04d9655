/**
 * The native programs `npm run bench` drives, installed with apt when missing (as
 * `scripts/install.sh --with-bench-tools` does).
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Compiles src/ into dist/ (tsc, as `npm run build` does before bundling the CLI): the
 * benches run the engine as it ships, from dist/, not src/ under tsx, whose transform adds a
 * name-keeping call to every function the proxy makes per request and a loader thread to each
 * worker it starts.
 */
export function buildDist(): void {
  execFileSync(
    process.execPath,
    [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
    {
      cwd: ROOT,
      stdio: 'inherit',
    },
  );
}

/** program → the Debian package that has it */
export const BENCH_TOOLS = { wrk: 'wrk', nginx: 'nginx-light', haproxy: 'haproxy' } as const;

function onPath(program: string): boolean {
  const dirs = (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin']);
  return dirs.some((d) => {
    try {
      accessSync(join(d, program), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Installs the packages of the missing programs; throws with the command to run when it cannot. */
export function ensureBenchTools(): void {
  const missing = Object.entries(BENCH_TOOLS)
    .filter(([program]) => !onPath(program))
    .map(([, pkg]) => pkg);
  if (missing.length === 0) return;
  const command = `apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  if (process.getuid?.() !== 0 || !onPath('apt-get')) {
    throw new Error(`npm run bench needs ${missing.join(', ')}: run \`sudo ${command}\``);
  }
  console.error(`installing ${missing.join(', ')}…`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], {
    stdio: 'inherit',
    env,
  });
}
