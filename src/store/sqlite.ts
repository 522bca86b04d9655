import Database from 'better-sqlite3';
import { createRequire } from 'node:module';

let addon: string | null | undefined;

/**
 * better-sqlite3's compiled addon where its install puts it. Its own lookup (the `bindings`
 * package) tries a dozen paths, each a failed `require`: ~6 ms of every start. Undefined when
 * it is not there (a build of another kind): better-sqlite3 then searches as it always does,
 * which works for the library but not in the bundled executable (`bindings` searches beside
 * the file that calls it, a bundle in dist/bin/).
 */
function addonPath(): string | undefined {
  if (addon === undefined) {
    try {
      addon = createRequire(import.meta.url).resolve('better-sqlite3/build/Release/better_sqlite3.node');
    } catch {
      addon = null;
    }
  }
  return addon ?? undefined;
}

/** `new Database(file, options)`, with the addon found directly. */
export function openSqlite(file: string, options: Database.Options = {}): Database.Database {
  return new Database(file, { ...options, nativeBinding: addonPath() });
}
