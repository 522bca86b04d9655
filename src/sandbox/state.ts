import { airlockHome } from '../config/env-vars.js';
import { openDatabase, type Db } from '../store/database.js';
import { SandboxRecords } from '../store/sandbox-records.js';

/** The open state of one airlock process: the database and its sandbox records. */
export interface State {
  home: string;
  db: Db;
  sandboxes: SandboxRecords;
  close(): void;
}

/** Opens the state directory; `synchronous` comes from the config's `audit.synchronous`. */
export function openState(home = airlockHome(), synchronous: 'FULL' | 'NORMAL' = 'FULL'): State {
  const db = openDatabase({ home, synchronous });
  return { home, db, sandboxes: new SandboxRecords(db), close: () => db.close() };
}
