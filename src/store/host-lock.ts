import type Database from 'better-sqlite3';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AirlockError } from '../errors.js';
import { ensureTrustedDirectory } from './trusted-directory.js';
import { openSqlite } from './sqlite.js';

/** The host-wide lock every airlock process takes to allocate, whatever its AIRLOCK_HOME. */
export const HOST_LOCK_FILE = '/run/airlock/host.lock';

export interface HostLockOptions {
  /** the lock file; its folder is created 0700 and must be root's alone (omitted = /run/airlock/host.lock) */
  path?: string;
  /** how long to wait for another holder before giving up, in ms (omitted = 30000) */
  timeoutMs?: number;
}

/** pause between attempts in ms: short, because a holder keeps the lock for milliseconds */
const RETRY_MS = { min: 5, max: 25 };

/**
 * Runs `fn` while this process holds the host-wide lock, and releases it when `fn` settles.
 * The lock is an SQLite `BEGIN EXCLUSIVE` on a small file: SQLite takes it with fcntl locks,
 * which the kernel drops when the holder dies, so a crashed airlock never wedges the host.
 * Waiting never blocks the event loop: attempts fail at once (busy timeout 0) and are retried
 * after a short sleep, until `timeoutMs`. Two calls in one process exclude each other too.
 */
export async function withHostLock<T>(fn: () => Promise<T> | T, options: HostLockOptions = {}): Promise<T> {
  const lock = await acquire(options.path ?? HOST_LOCK_FILE, options.timeoutMs ?? 30_000);
  try {
    return await fn();
  } finally {
    // closing the connection ends the transaction and drops the lock
    lock.close();
  }
}

async function acquire(path: string, timeoutMs: number): Promise<Database.Database> {
  ensureTrustedDirectory(dirname(path), { label: 'lock directory', create: true });
  const db = openLockFile(path);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      db.exec('BEGIN EXCLUSIVE');
      return db;
    } catch (error) {
      const busy = (error as { code?: string }).code === 'SQLITE_BUSY';
      if (!busy || Date.now() >= deadline) {
        db.close();
        throw busy
          ? new AirlockError(
              'AIRLOCK_ERR_HOST_LOCK',
              `gave up after ${timeoutMs} ms waiting for the host-wide allocation lock ${path}: ` +
                'another airlock process holds it',
              { hint: `find the holder with \`fuser -v ${path}\`; the lock is released when it exits` },
            )
          : new AirlockError('AIRLOCK_ERR_STATE', `cannot take the lock ${path}: ${String(error)}`, {
              cause: error,
            });
      }
      await sleep(RETRY_MS.min + Math.random() * (RETRY_MS.max - RETRY_MS.min));
    }
  }
}

function openLockFile(path: string): Database.Database {
  try {
    return openSqlite(path, { timeout: 0 });
  } catch (cause) {
    throw new AirlockError('AIRLOCK_ERR_STATE', `cannot open the lock ${path}: ${String(cause)}`, { cause });
  }
}
