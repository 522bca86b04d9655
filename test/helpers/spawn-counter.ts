import { ChildProcess } from 'node:child_process';

/** ChildProcess's internal `spawn`, which `spawn`, `execFile`, `exec` and `fork` all go through. */
type Spawning = { spawn: (...args: unknown[]) => unknown };

/**
 * Counts every process this Node process starts from now on, by any of those routes and from
 * whichever copy of airlock (src/ under tsx, or the build in dist/). `stop()` puts the original
 * back.
 */
export function countSpawns(): { count: () => number; stop: () => void } {
  const proto = ChildProcess.prototype as unknown as Spawning;
  const original = proto.spawn;
  let count = 0;
  proto.spawn = function (this: unknown, ...args: unknown[]) {
    count++;
    return original.apply(this, args);
  };
  return { count: () => count, stop: () => void (proto.spawn = original) };
}
