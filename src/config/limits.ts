import { totalmem } from 'node:os';
import { AirlockError } from '../errors.js';

/** What a whole sandbox may use, every process of it together. */
export interface Limits {
  /** memory (RAM, tmpfs files included; no swap) in bytes */
  memoryBytes: number;
  /** processes and threads at once */
  pids: number;
  /** CPU time as a number of CPUs, e.g. 1.5 (null = no quota) */
  cpus: number | null;
}

/** Enough for shells, compilers and package managers; a fork bomb stops here. */
export const DEFAULT_PIDS = 1024;
export const MIN_PIDS = 8;
const MIN_MEMORY = 16 * 2 ** 20;
/** how long a guest may take to exit after Ctrl-C or SIGTERM before it is killed */
export const DEFAULT_GRACE_SECONDS = 10;

/** Half of this machine's RAM: a memory hog in a sandbox leaves the host the other half. */
export function defaultLimits(): Limits {
  return { memoryBytes: Math.floor(totalmem() / 2 / 2 ** 20) * 2 ** 20, pids: DEFAULT_PIDS, cpus: null };
}

const UNITS: Record<string, number> = { '': 1, b: 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };

/** Parses a size as Docker does: bytes, or a number with k, m, g or t (powers of 1024), e.g. `512m`, `1.5g`. */
export function parseSize(value: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([bkmgt]?)(?:i?b)?$/i.exec(value.trim());
  const bytes = m ? Math.floor(Number(m[1]) * UNITS[m[2]!.toLowerCase()]!) : NaN;
  if (!Number.isFinite(bytes)) {
    throw new AirlockError(
      'AIRLOCK_ERR_USAGE',
      `${what} ${value}: expected a size like 512m, 2g or 1073741824`,
    );
  }
  if (bytes < MIN_MEMORY) {
    throw new AirlockError('AIRLOCK_ERR_USAGE', `${what} ${value}: below the 16m a sandbox needs to start`);
  }
  return bytes;
}

export function isSize(value: string): boolean {
  try {
    parseSize(value, '');
    return true;
  } catch {
    return false;
  }
}

/** The limits of the config's `limits` section with flag values (strings, as typed) on top. */
export function resolveLimits(
  config: { memory?: string | undefined; pids: number; cpus?: number | undefined },
  flags: { memory?: string | undefined; pids?: string | undefined; cpus?: string | undefined },
): Limits {
  const defaults = defaultLimits();
  return {
    memoryBytes:
      flags.memory !== undefined
        ? parseSize(flags.memory, '--memory')
        : config.memory !== undefined
          ? parseSize(config.memory, 'limits.memory')
          : defaults.memoryBytes,
    pids: flags.pids !== undefined ? parsePids(flags.pids, '--pids') : config.pids,
    cpus: flags.cpus !== undefined ? parseCpus(flags.cpus, '--cpus') : (config.cpus ?? null),
  };
}

export function parsePids(value: string, what: string): number {
  const n = /^\d{1,9}$/.test(value.trim()) ? Number(value) : NaN;
  if (!(n >= MIN_PIDS)) {
    throw new AirlockError(
      'AIRLOCK_ERR_USAGE',
      `${what} ${value}: expected a whole number of processes, at least ${MIN_PIDS}`,
    );
  }
  return n;
}

export function parseCpus(value: string, what: string): number {
  const n = /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : NaN;
  if (!(n >= 0.01 && n <= 4096)) {
    throw new AirlockError(
      'AIRLOCK_ERR_USAGE',
      `${what} ${value}: expected a number of CPUs such as 0.5, 1 or 4`,
    );
  }
  return n;
}

/** A size for people: `512 MiB`, `1.5 GiB`. */
export function formatSize(bytes: number): string {
  const [unit, size] = bytes >= 2 ** 30 ? ['GiB', 2 ** 30] : ['MiB', 2 ** 20];
  return `${Number((bytes / size).toFixed(1))} ${unit}`;
}
