import { PassThrough } from 'node:stream';
import type { CliIo } from '../../src/cli/command.js';

/** A CliIo whose stdout and stderr are collected into strings. */
export function captureIo(env: NodeJS.ProcessEnv = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  stdout.on('data', (c: Buffer) => out.push(c.toString()));
  stderr.on('data', (c: Buffer) => err.push(c.toString()));
  const io: CliIo = { stdout, stderr, env };
  return { io, stdout: () => out.join(''), stderr: () => err.join('') };
}
