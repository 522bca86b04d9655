import { spawn, type ChildProcess } from 'node:child_process';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { CliIo } from '../../src/cli/command.js';

export const BIN = fileURLToPath(new URL('../../src/cli/bin.ts', import.meta.url));

export interface CliResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Starts the real `airlock` executable (TypeScript via tsx) as a child process. */
export function startCli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): { child: ChildProcess; done: Promise<CliResult> } {
  return startProgram(process.execPath, ['--import', 'tsx', BIN, ...args], env);
}

/** Starts `program` with this environment plus `env`, collecting its output (e.g. the bundled executable). */
export function startProgram(
  program: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): { child: ChildProcess; done: Promise<CliResult> } {
  const child = spawn(program, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const done = new Promise<CliResult>((resolve) =>
    child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr })),
  );
  return { child, done };
}

export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return startCli(args, env).done;
}

/** An in-process CliIo that captures what a command writes. */
export function captureIo(env: NodeJS.ProcessEnv = {}): CliIo & { out(): string; err(): string } {
  const sink = () => {
    let text = '';
    const stream = new Writable({
      write(chunk: Buffer, _enc, cb) {
        text += chunk.toString();
        cb();
      },
    });
    return { stream, text: () => text };
  };
  const o = sink();
  const e = sink();
  return { stdout: o.stream, stderr: e.stream, env, out: o.text, err: e.text };
}
