import { ChildProcess } from 'node:child_process';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { PROCESS_START_CHANNEL } from '../../src/net/vfork-spawn.js';

/** ChildProcess's internal `spawn`, which `spawn`, `execFile`, `exec` and `fork` all go through. */
type Spawning = { spawn: (...args: unknown[]) => unknown };

/**
 * Counts every process this Node process starts from now on: by child_process (`spawn`,
 * `execFile`, `exec`, `fork`) and by airlock's own posix_spawn (its diagnostics channel), from
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
  const onStart = () => void count++;
  subscribe(PROCESS_START_CHANNEL, onStart);
  return {
    count: () => count,
    stop: () => {
      proto.spawn = original;
      unsubscribe(PROCESS_START_CHANNEL, onStart);
    },
  };
}
