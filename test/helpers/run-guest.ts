import { spawn } from 'node:child_process';

export interface GuestRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** the exact argv and environment the child got (for canary checks) */
  argv: string[];
  env: Record<string, string>;
}

/**
 * Runs a command as a stand-in guest: ONLY `env` (plus PATH) as its environment, like the
 * sandbox does; never the test runner's own variables. Killed after `timeoutMs`.
 */
export function runGuest(command: string, args: string[], env: Record<string, string>, timeoutMs = 30_000) {
  const childEnv = { ...env, PATH: process.env.PATH ?? '/usr/bin:/bin' };
  return new Promise<GuestRun>((resolve, reject) => {
    const child = spawn(command, args, { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, argv: [command, ...args], env: childEnv });
    });
  });
}
