import { createHash } from 'node:crypto';
import {
  closeSync,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { Script } from 'node:vm';
import { airlockHome } from '../config/env-vars.js';
import { ensureTrustedDirectory } from '../store/trusted-directory.js';

/**
 * Where compiled code is kept between runs: `cache/` in the state directory, which only its
 * owner (root) can change and no guest sees. Null, and no cache, when the state directory does
 * not exist yet or is not this user's to trust (e.g. `airlock --help` run by someone else).
 */
export function codeCacheDir(env: NodeJS.ProcessEnv): string | null {
  try {
    const home = airlockHome(env);
    ensureTrustedDirectory(home, { label: 'state directory', create: false });
    const dir = join(home, 'cache');
    mkdirSync(dir, { mode: 0o700, recursive: true });
    ensureTrustedDirectory(dir, { label: 'code cache', create: false });
    return dir;
  } catch {
    return null;
  }
}

/**
 * Runs a CommonJS file and returns its exports, like `require`, but compiled with V8's code
 * cache: without it, compiling the few MB of a command's bundle is most of its start-up. The
 * cache of a file is named by a hash of its source, Node's version and the architecture, so an
 * upgrade never uses the cache of older code (V8 itself checks only the source's length). A
 * missing or rejected cache is written anew when the process exits, with every function
 * compiled by then; any failure only means no cache.
 */
export function loadCommonJs(file: string, cacheDir: string | null): unknown {
  const bytes = readFileSync(file);
  const key = createHash('sha256').update(`${process.version} ${process.arch}\n`).update(bytes).digest('hex');
  const prefix = `${basename(file)}-`;
  const cacheFile = cacheDir === null ? null : join(cacheDir, `${prefix}${key.slice(0, 32)}.v8`);
  const cachedData = cacheFile === null ? undefined : readOwnFile(cacheFile);
  const script = new Script(
    `(function (exports, require, module, __filename, __dirname) {${bytes.toString('utf8')}\n})`,
    {
      filename: file,
      ...(cachedData ? { cachedData } : {}),
    },
  );
  if (cacheFile !== null && (cachedData === undefined || script.cachedDataRejected === true)) {
    process.once('exit', () => writeCache(cacheFile, prefix, script));
  }
  const module = { exports: {} as unknown };
  const wrapper = script.runInThisContext() as (...args: unknown[]) => void;
  wrapper.call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
  return module.exports;
}

/** The file's bytes if this user owns it and nobody else can write it, else undefined. */
function readOwnFile(path: string): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const st = fstatSync(fd);
    const own = st.isFile() && st.uid === (process.geteuid?.() ?? 0) && (st.mode & 0o022) === 0;
    return own ? readFileSync(fd) : undefined;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** Writes the cache of `script` (atomically) and removes the caches of older versions of its file. */
function writeCache(cacheFile: string, prefix: string, script: Script): void {
  try {
    const dir = dirname(cacheFile);
    for (const old of readdirSync(dir)) {
      if (old.startsWith(prefix)) rmSync(join(dir, old), { force: true });
    }
    const partial = `${cacheFile}.${process.pid}.tmp`;
    writeFileSync(partial, script.createCachedData(), { mode: 0o600 });
    renameSync(partial, cacheFile);
  } catch {
    // no cache this time
  }
}
