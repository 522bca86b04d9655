import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/**
 * An ES module (TypeScript through tsx) run in a node process of its own and spoken to one
 * line at a time: the test writes to its stdin and reads its stdout lines. Its stderr is
 * the test's.
 */
export interface LineWorker {
  child: ChildProcess;
  /** writes one line to the worker's stdin */
  send(line: string): void;
  /** closes the worker's stdin (its line reader ends) */
  end(): void;
  /** the worker's next stdout line; rejects when it exits first */
  next(): Promise<string>;
  /** resolves with the exit code (null when killed) */
  exited: Promise<number | null>;
  /** kills the worker with SIGKILL (if it still runs) and waits for it to exit */
  stop(): Promise<void>;
}

export function startWorker(script: string): LineWorker {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  const waiting: { resolve(line: string): void; reject(error: Error): void }[] = [];
  let ended = false;
  createInterface({ input: child.stdout }).on('line', (line) => {
    const waiter = waiting.shift();
    if (waiter) waiter.resolve(line);
    else lines.push(line);
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once('close', (code) => {
      ended = true;
      for (const w of waiting.splice(0)) w.reject(new Error(`worker exited (${code}) before answering`));
      resolve(code);
    }),
  );
  return {
    child,
    exited,
    send: (line) => child.stdin.write(`${line}\n`),
    end: () => child.stdin.end(),
    next: () =>
      lines.length > 0
        ? Promise.resolve(lines.shift()!)
        : ended
          ? Promise.reject(new Error('worker has exited'))
          : new Promise((resolve, reject) => waiting.push({ resolve, reject })),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
