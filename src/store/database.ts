import type Database from 'better-sqlite3';
import { chmodSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AirlockError } from '../errors.js';
import { ensureTrustedDirectory } from './trusted-directory.js';
import { openSqlite } from './sqlite.js';

/** the folder of numbered migrations (`001_name.sql`), two levels up from src/store or dist/store */
export const SQL_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'sql');

export type Db = Database.Database;

export interface OpenDatabaseOptions {
  /** the state directory, created with mode 0700 when missing; refused unless only root can change it */
  home: string;
  /** open read-only (for `--sql` queries); the database must exist */
  readonly?: boolean;
  /** `FULL` (default) or `NORMAL`; see docs/audit.md for what NORMAL gives up */
  synchronous?: 'FULL' | 'NORMAL';
  /** how long to wait for another process's write lock, in ms (omitted = 5000) */
  busyTimeoutMs?: number;
}

export const DATABASE_FILE = 'airlock.db';

/** Checks or creates the state directory (0700) and opens airlock.db (0600, WAL) with migrations applied. */
export function openDatabase(options: OpenDatabaseOptions): Db {
  const { home } = options;
  ensureTrustedDirectory(home, {
    label: 'state directory',
    alternative: 'or set AIRLOCK_HOME to a directory only root can change (default /var/lib/airlock)',
    create: !options.readonly,
  });
  const file = join(home, DATABASE_FILE);
  let db: Db;
  try {
    // group and others may not even read it
    if (!options.readonly) chmodSync(home, 0o700);
    db = openSqlite(file, {
      readonly: options.readonly ?? false,
      fileMustExist: options.readonly ?? false,
    });
    const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    if (!options.readonly) {
      enableWal(db, busyTimeoutMs);
      db.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`);
      db.pragma('foreign_keys = ON');
      migrate(db);
      restrictFiles(file);
    }
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if ((code === 'EPERM' || code === 'EACCES') && process.geteuid?.() !== 0) {
      throw new AirlockError(
        'AIRLOCK_ERR_NOT_ROOT',
        `the state directory ${home} and its audit log need root`,
        {
          cause,
          hint: 'run it with sudo (the audit log holds what every sandbox did, so only root may read it)',
        },
      );
    }
    throw new AirlockError('AIRLOCK_ERR_STATE', `cannot open ${file}: ${String(cause)}`, { cause });
  }
  return db;
}

/**
 * Switches a database to WAL. On a brand-new file two openers can each hold the read lock
 * the other must wait out; SQLite then answers SQLITE_BUSY at once rather than calling the
 * busy handler (deadlock avoidance), so the switch is retried here until the busy timeout.
 */
function enableWal(db: Db, busyTimeoutMs: number): void {
  const deadline = Date.now() + busyTimeoutMs;
  for (;;) {
    try {
      db.pragma('journal_mode = WAL');
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() >= deadline) throw error;
      // the caller is synchronous, as SQLite's own busy handler is: sleep without spinning
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5 + Math.random() * 20);
    }
  }
}

/** The database, WAL and shared-memory files are readable by root only. */
function restrictFiles(file: string): void {
  for (const f of [file, `${file}-wal`, `${file}-shm`]) {
    if (existsSync(f)) chmodSync(f, 0o600);
  }
}

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export function listMigrations(dir = SQL_DIR): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d{3}_[\w-]+\.sql$/.test(f))
    .sort()
    .map((f) => ({ version: Number(f.slice(0, 3)), name: f, sql: readFileSync(join(dir, f), 'utf8') }));
}

/**
 * Applies the migrations newer than `PRAGMA user_version` in one IMMEDIATE transaction. The
 * version is read again inside it: another process may have migrated while this one waited.
 */
export function migrate(db: Db, dir = SQL_DIR): void {
  const migrations = listMigrations(dir);
  const pending = () => {
    const current = db.pragma('user_version', { simple: true }) as number;
    return migrations.filter((m) => m.version > current);
  };
  const known = migrations.at(-1)?.version ?? 0;
  const found = db.pragma('user_version', { simple: true }) as number;
  if (found > known) {
    // its tables are not the ones this airlock's statements expect: refuse before preparing any
    throw new AirlockError(
      'AIRLOCK_ERR_STATE',
      `${db.name} has schema version ${found}, newer than this airlock knows (${known}): a newer airlock wrote it`,
      { hint: 'run the newer airlock, or point AIRLOCK_HOME at another state directory' },
    );
  }
  // the common case, an up-to-date database, takes no write lock
  if (pending().length === 0) return;
  db.transaction(() => {
    for (const m of pending()) {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    }
  }).immediate();
}
