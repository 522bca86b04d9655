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

export function openState(home = airlockHome()): State {
  const db = openDatabase({ home });
  return { home, db, sandboxes: new SandboxRecords(db), close: () => db.close() };
}
