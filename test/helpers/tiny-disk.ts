import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

type After = { after(fn: () => unknown): void };

/** A small tmpfs (omitted = 1 MiB) mounted for the test and unmounted after it (also on failure). Needs root. */
export function tinyDisk(t: After, size = '1m'): string {
  const mnt = mkdtempSync(join(tmpdir(), 'airlock-full-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'airlock-audit-test', mnt]);
  t.after(() => {
    execFileSync('umount', ['-l', mnt]);
    rmSync(mnt, { recursive: true, force: true });
  });
  return mnt;
}

/** Fills the file system holding `dir` until writes fail with ENOSPC; returns the filler file. */
export function fill(dir: string): string {
  const filler = join(dir, 'filler');
  const block = Buffer.alloc(4096, 1);
  let data = Buffer.alloc(0);
  try {
    // grow the file in 4 KiB steps so the last free block is taken too
    for (;;) {
      data = Buffer.concat([data, block]);
      writeFileSync(filler, data);
    }
  } catch (error) {
    assert.equal((error as NodeJS.ErrnoException).code, 'ENOSPC');
  }
  return filler;
}
