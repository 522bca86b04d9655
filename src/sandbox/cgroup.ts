import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AirlockError } from '../errors.js';
import type { Limits } from '../config/limits.js';

/**
 * Where this host's cgroup controllers live: one unified v2 hierarchy, or v1 hierarchies
 * (one mount per controller, e.g. /sys/fs/cgroup/memory). A hybrid host (v2 mounted beside
 * v1 without controllers) counts as v1.
 */
export type CgroupFs =
  | { version: 2; root: string }
  | { version: 1; memory: string; pids: string; cpu: string | null; freezer: string | null };

/** Every sandbox's cgroup is `airlock-<id>` directly under each hierarchy's root. */
export const CGROUP_PREFIX = 'airlock-';

/** Reads /proc/self/mountinfo: the cgroup2 mount at /sys/fs/cgroup, else the v1 controllers. */
export function detectCgroupFs(mountinfo = readFileSync('/proc/self/mountinfo', 'utf8')): CgroupFs {
  const mounts = mountinfo
    .split('\n')
    .map((line) => {
      const [left = '', right = ''] = line.split(' - ');
      const [fstype = '', , options = ''] = right.split(' ');
      return { point: left.split(' ')[4] ?? '', fstype, options: options.split(',') };
    })
    .filter((m) => m.fstype === 'cgroup' || m.fstype === 'cgroup2');
  const unified = mounts.find((m) => m.fstype === 'cgroup2' && m.point === '/sys/fs/cgroup');
  if (unified) return { version: 2, root: unified.point };
  const v1 = (controller: string) =>
    mounts.find((m) => m.fstype === 'cgroup' && m.options.includes(controller))?.point ?? null;
  const memory = v1('memory');
  const pids = v1('pids');
  if (memory === null || pids === null) {
    throw new AirlockError(
      'AIRLOCK_ERR_CGROUP',
      'no cgroup memory and pids controllers are mounted, so sandbox limits cannot be enforced',
      { hint: 'boot with cgroups enabled (cgroup v2 at /sys/fs/cgroup, or v1 memory and pids hierarchies)' },
    );
  }
  return { version: 1, memory, pids, cpu: v1('cpu'), freezer: v1('freezer') };
}

let hostFs: CgroupFs | undefined;

/**
 * This host's cgroup file systems, read once per process: its mounts do not move while airlock
 * runs, and what detectCgroupFs returns holds slices of the ~10 KB mountinfo text, which each
 * sandbox's cgroup would otherwise keep a copy of.
 */
export function hostCgroupFs(): CgroupFs {
  return (hostFs ??= detectCgroupFs());
}

/** What the kernel counted for a sandbox: processes killed for memory, forks refused. */
export interface CgroupEvents {
  oomKills: number;
  forksRefused: number;
}

/** One sandbox's cgroup: its limits hold for all its processes together. */
export interface SandboxCgroup {
  readonly id: string;
  /** moves a process (and so its future children) into the sandbox's cgroup */
  attach(pid: number): void;
  /** kills every process in it and waits until it is empty */
  kill(): Promise<void>;
  /** kills what is left and removes the cgroup; "already gone" counts as done */
  remove(): Promise<void>;
  events(): CgroupEvents;
}

const CPU_PERIOD_US = 100_000;

/** Makes the sandbox's cgroup and writes its limits; on failure removes what it made. */
export function createCgroup(id: string, limits: Limits, fs: CgroupFs = hostCgroupFs()): SandboxCgroup {
  const cgroup = openCgroup(id, fs);
  const write = (dir: string, file: string, value: string) => {
    try {
      writeFileSync(join(dir, file), value);
    } catch (cause) {
      throw new AirlockError(
        'AIRLOCK_ERR_CGROUP',
        `cannot set ${join(dir, file)} to ${value}: ${String(cause)}`,
        {
          cause,
        },
      );
    }
  };
  try {
    if (fs.version === 2) {
      enableControllers(fs.root, limits.cpus !== null);
      const dir = join(fs.root, CGROUP_PREFIX + id);
      mkdirSync(dir);
      write(dir, 'memory.max', String(limits.memoryBytes));
      if (existsSync(join(dir, 'memory.swap.max'))) write(dir, 'memory.swap.max', '0');
      write(dir, 'pids.max', String(limits.pids));
      if (limits.cpus !== null)
        write(dir, 'cpu.max', `${Math.round(limits.cpus * CPU_PERIOD_US)} ${CPU_PERIOD_US}`);
    } else {
      if (limits.cpus !== null && fs.cpu === null) {
        throw new AirlockError(
          'AIRLOCK_ERR_CGROUP',
          'a CPU limit was asked for, but no cgroup cpu controller is mounted',
        );
      }
      for (const dir of v1Dirs(id, fs)) mkdirSync(dir);
      const memory = join(fs.memory, CGROUP_PREFIX + id);
      write(memory, 'memory.limit_in_bytes', String(limits.memoryBytes));
      // with swap accounting on, also cap memory+swap so the limit cannot be dodged by swapping
      if (existsSync(join(memory, 'memory.memsw.limit_in_bytes'))) {
        write(memory, 'memory.memsw.limit_in_bytes', String(limits.memoryBytes));
      }
      write(join(fs.pids, CGROUP_PREFIX + id), 'pids.max', String(limits.pids));
      if (limits.cpus !== null && fs.cpu !== null) {
        const cpu = join(fs.cpu, CGROUP_PREFIX + id);
        write(cpu, 'cpu.cfs_period_us', String(CPU_PERIOD_US));
        write(cpu, 'cpu.cfs_quota_us', String(Math.round(limits.cpus * CPU_PERIOD_US)));
      }
    }
  } catch (error) {
    void cgroup.remove().catch(() => undefined);
    if (error instanceof AirlockError) throw error;
    throw new AirlockError(
      'AIRLOCK_ERR_CGROUP',
      `cannot create the cgroup of sandbox ${id}: ${String(error)}`,
      {
        cause: error,
      },
    );
  }
  return cgroup;
}

/** A handle on an existing (or half-made) sandbox cgroup, for teardown and gc. */
export function openCgroup(id: string, fs: CgroupFs = hostCgroupFs()): SandboxCgroup {
  const dirs = fs.version === 2 ? [join(fs.root, CGROUP_PREFIX + id)] : v1Dirs(id, fs);
  const pids = () => [...new Set(dirs.flatMap((dir) => readPids(dir)))];
  const kill = async () => {
    if (fs.version === 2 && existsSync(join(dirs[0]!, 'cgroup.kill'))) {
      writeFileSync(join(dirs[0]!, 'cgroup.kill'), '1');
    } else {
      await freezeAndKill(
        fs.version === 2 ? dirs[0]! : fs.freezer && join(fs.freezer, CGROUP_PREFIX + id),
        pids,
      );
    }
    for (let i = 0; i < 200 && pids().length > 0; i++) await sleep(10);
  };
  return {
    id,
    attach(pid) {
      if (isInside(pid, id, dirs.length)) return; // moving costs the kernel a wait even then
      for (const dir of dirs) {
        try {
          writeFileSync(join(dir, 'cgroup.procs'), String(pid));
        } catch (cause) {
          throw new AirlockError(
            'AIRLOCK_ERR_CGROUP',
            `cannot move process ${pid} into ${dir}: ${String(cause)}`,
            {
              cause,
            },
          );
        }
      }
    },
    kill,
    async remove() {
      if (!dirs.some((dir) => existsSync(dir))) return;
      await kill();
      for (const dir of dirs) await removeDir(dir);
    },
    events() {
      if (fs.version === 2) {
        return {
          oomKills: readCounter(join(dirs[0]!, 'memory.events'), 'oom_kill'),
          forksRefused: readCounter(join(dirs[0]!, 'pids.events'), 'max'),
        };
      }
      return {
        oomKills: readCounter(join(fs.memory, CGROUP_PREFIX + id, 'memory.oom_control'), 'oom_kill'),
        forksRefused: readCounter(join(fs.pids, CGROUP_PREFIX + id, 'pids.events'), 'max'),
      };
    },
  };
}

/** Whether a process is already in the sandbox's cgroup in each of its `hierarchies`. */
function isInside(pid: number, id: string, hierarchies: number): boolean {
  try {
    const path = `:/${CGROUP_PREFIX}${id}`;
    const lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n');
    return lines.filter((line) => line.endsWith(path)).length >= hierarchies;
  } catch {
    return false; // gone: writing its pid reports that
  }
}

/** The ids of every sandbox cgroup on the host (for gc). */
export function listSandboxCgroups(fs: CgroupFs = hostCgroupFs()): string[] {
  const root = fs.version === 2 ? fs.root : fs.memory;
  const v1Extra = fs.version === 1 ? [fs.pids, fs.cpu, fs.freezer] : [];
  const ids = new Set<string>();
  for (const dir of [root, ...v1Extra]) {
    if (dir === null) continue;
    for (const name of safeReaddir(dir))
      if (name.startsWith(CGROUP_PREFIX)) ids.add(name.slice(CGROUP_PREFIX.length));
  }
  return [...ids];
}

function v1Dirs(id: string, fs: Extract<CgroupFs, { version: 1 }>): string[] {
  return [fs.memory, fs.pids, fs.cpu, fs.freezer]
    .filter((d): d is string => d !== null)
    .map((d) => join(d, CGROUP_PREFIX + id));
}

/** v2: the root's children may use memory, pids (and cpu when asked for). */
function enableControllers(root: string, cpu: boolean): void {
  const available = readFileSync(join(root, 'cgroup.controllers'), 'utf8').split(/\s+/);
  const wanted = ['memory', 'pids', ...(cpu ? ['cpu'] : [])];
  const missing = wanted.filter((c) => !available.includes(c));
  if (missing.length > 0) {
    throw new AirlockError(
      'AIRLOCK_ERR_CGROUP',
      `cgroup controllers not available in ${root}: ${missing.join(', ')}`,
    );
  }
  const enabled = readFileSync(join(root, 'cgroup.subtree_control'), 'utf8').split(/\s+/);
  for (const c of wanted.filter((c) => !enabled.includes(c))) {
    // one at a time, as runc does: a failure names the controller
    try {
      writeFileSync(join(root, 'cgroup.subtree_control'), `+${c}`);
    } catch (cause) {
      throw new AirlockError(
        'AIRLOCK_ERR_CGROUP',
        `cannot enable the ${c} controller in ${root}: ${String(cause)}`,
        {
          cause,
          hint: 'in a container, give airlock its own cgroup namespace with delegated controllers',
        },
      );
    }
  }
}

/**
 * Freezes the cgroup so no process can fork while the rest are killed, kills every process,
 * and always thaws (a frozen cgroup would hold SIGKILLed processes forever).
 */
async function freezeAndKill(freezerDir: string | null, pids: () => number[]): Promise<void> {
  const v2 = freezerDir !== null && existsSync(join(freezerDir, 'cgroup.freeze'));
  const state = freezerDir === null ? null : join(freezerDir, v2 ? 'cgroup.freeze' : 'freezer.state');
  const setState = (frozen: boolean) => {
    if (state === null || !existsSync(state)) return;
    writeFileSync(state, v2 ? (frozen ? '1' : '0') : frozen ? 'FROZEN' : 'THAWED');
  };
  for (let round = 0; round < 20; round++) {
    const live = pids();
    if (live.length === 0) return;
    try {
      setState(true);
      for (const pid of live) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // exited meanwhile
        }
      }
    } finally {
      setState(false);
    }
    await sleep(10);
  }
}

async function removeDir(dir: string): Promise<void> {
  // the kernel refuses (EBUSY) while the last killed processes are still exiting
  for (let attempt = 0; ; attempt++) {
    try {
      rmdirSync(dir);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' || attempt >= 100) {
        throw new AirlockError('AIRLOCK_ERR_CGROUP', `cannot remove ${dir}: ${String(error)}`, {
          cause: error,
        });
      }
      await sleep(10 + attempt * 5);
    }
  }
}

function readPids(dir: string): number[] {
  try {
    return readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** A `key value` line of a cgroup stats file (memory.events, pids.events, memory.oom_control). */
function readCounter(file: string, key: string): number {
  try {
    const line = readFileSync(file, 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${key} `));
    return line === undefined ? 0 : Number(line.split(' ')[1]);
  } catch {
    return 0;
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
