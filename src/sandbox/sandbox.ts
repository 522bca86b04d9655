import { arch } from 'node:process';
import { DEFAULT_PROXY_PORT } from '../config/env-vars.js';
import { AirlockError } from '../errors.js';
import type { SandboxRecord } from '../store/sandbox-records.js';
import { DEFAULT_POOL, parsePool } from '../net/address-pool.js';
import { allocateSandbox } from './allocation.js';
import { collectGarbage } from './gc.js';
import { assertRootSafeEnv, buildGuestEnv } from './guest-env.js';
import { createCgroup, type CgroupEvents, type SandboxCgroup } from './cgroup.js';
import {
  FIRST_FILE_FD,
  guestArgv,
  startGuest,
  type GuestCommandOptions,
  type GuestProcess,
} from './guest-process.js';
import { resolveGuestUser, type GuestUser } from './guest-user.js';
import { GUEST_RESOLV_CONF, guestResolvConfPath } from './guest-view.js';
import { checkWorkdir, type Mount } from './host-paths.js';
import { defaultLimits, type Limits } from '../config/limits.js';
import { buildNetwork, processStartTime, teardownSandbox, type BuildStep } from './resources.js';
import { seccompSupported, type SeccompArch } from './seccomp.js';
import { openState, type State } from './state.js';
import { assertRoot } from './privileges.js';
import { requireTools, type Tool } from './required-tools.js';

export interface SandboxOptions {
  /** state directory (omitted = AIRLOCK_HOME or /var/lib/airlock) */
  home?: string;
  /** an open state to share between sandboxes of one process (omitted = opened and owned here) */
  state?: State;
  /** IPv4 pool carved into /30s (omitted = 10.209.0.0/16) */
  pool?: string;
  /** TCP port of the proxy on the gateway (omitted = 9090) */
  proxyPort?: number;
  /** a label for people and `airlock audit` */
  name?: string;
  /** guest user spec: NAME, UID or UID:GID (omitted = the sudo caller, else nobody) */
  user?: string;
  /** variables every guest of this sandbox gets (placeholders, base URLs, --env) */
  env?: Record<string, string>;
  /** profile names, recorded for the audit log */
  profiles?: string[];
  /** credential env var NAMES (never values), recorded for the audit log */
  credentials?: string[];
  /** the environment airlock was started with; only its allowlisted variables reach guests */
  invokingEnv?: NodeJS.ProcessEnv;
  /** memory, process and CPU limits of the whole sandbox (omitted = `defaultLimits()`) */
  limits?: Limits;
  /** host folders shown to every guest of this sandbox (`--mount`) */
  mounts?: readonly Mount[];
  /** host paths masked wherever a guest's view would show them (config and secret files) */
  hidden?: readonly string[];
  /**
   * remove what crashed airlock processes left before building (omitted = true; an engine
   * that did so when it opened passes false)
   */
  collectGarbage?: boolean;
  /** called after each build step; a throw aborts the build (tests use it to inject faults) */
  onBuildStep?: (step: BuildStep) => Promise<void> | void;
  /** aborts the build between steps (e.g. on Ctrl-C); what was made is removed */
  signal?: AbortSignal;
}

/** The result of `exec`: collected output and the shell-style exit status. */
export interface ExecResult {
  status: number;
  stdout: string;
  stderr: string;
}

/**
 * One enforced sandbox: a network namespace whose only way out is TCP to its own gateway
 * on the proxy port. Create with `Sandbox.create`, close with `close()` or `await using`.
 */
export class Sandbox {
  readonly record: SandboxRecord;
  readonly user: GuestUser;
  #state: State;
  #ownsState: boolean;
  #env: Record<string, string>;
  #invokingEnv: NodeJS.ProcessEnv;
  #children = new Set<GuestProcess>();
  #closed = false;
  /** absolute paths of ip, bwrap, setpriv… found before the sandbox was built */
  #tools: Record<Tool, string>;
  #cgroup: SandboxCgroup;
  #arch: SeccompArch;
  #mounts: readonly Mount[];
  #hidden: readonly string[];
  /** read-only files every guest's view gets, by path (e.g. the trust bundle), each as its parts in memory (a part may be shared by every sandbox: not copied) */
  #files = new Map<string, readonly string[]>();

  private constructor(
    record: SandboxRecord,
    state: State,
    ownsState: boolean,
    user: GuestUser,
    tools: Record<Tool, string>,
    cgroup: SandboxCgroup,
    arch: SeccompArch,
    options: SandboxOptions,
  ) {
    this.record = record;
    this.#tools = tools;
    this.#cgroup = cgroup;
    this.#arch = arch;
    this.#mounts = options.mounts ?? [];
    this.#hidden = [...(options.hidden ?? []), state.home];
    this.#state = state;
    this.#ownsState = ownsState;
    this.user = user;
    this.#env = { ...options.env };
    this.#invokingEnv = options.invokingEnv ?? process.env;
    const resolvConf = guestResolvConfPath();
    if (resolvConf !== null) this.#files.set(resolvConf, [GUEST_RESOLV_CONF]);
  }

  get id(): string {
    return this.record.id;
  }
  get gateway(): string {
    return this.record.gateway;
  }
  get guestAddress(): string {
    return this.record.guest;
  }
  get proxyPort(): number {
    return this.record.proxyPort;
  }
  get netns(): string {
    return this.record.netns;
  }
  get hostInterface(): string {
    return this.record.hostIf;
  }

  /**
   * Allocates a /30, builds the namespace and both rulesets, and verifies them. Fails closed:
   * on any error everything made so far is removed and the slot is freed.
   */
  static async create(options: SandboxOptions = {}): Promise<Sandbox> {
    assertRoot('creating a sandbox');
    const tools = requireTools(options.invokingEnv ?? process.env);
    const machine = arch;
    if (!seccompSupported(machine)) {
      throw new AirlockError(
        'AIRLOCK_ERR_GUEST_START',
        `guests need a system-call filter, and airlock has none for ${machine}`,
        {
          hint: 'run airlock on x86-64 or arm64',
        },
      );
    }
    assertRootSafeEnv(options.env ?? {});
    const limits = options.limits ?? defaultLimits();
    const pool = parsePool(options.pool ?? DEFAULT_POOL);
    const user = resolveGuestUser(options.user, options.invokingEnv ?? process.env);
    const proxyPort = options.proxyPort ?? DEFAULT_PROXY_PORT;
    if (!Number.isInteger(proxyPort) || proxyPort < 1 || proxyPort > 65535) {
      throw new AirlockError('AIRLOCK_ERR_CONFIG', `proxy port ${proxyPort} is not a TCP port (1-65535)`);
    }
    options.signal?.throwIfAborted();
    const state = options.state ?? openState(options.home);
    const ownsState = options.state === undefined;
    let record: SandboxRecord | null = null;
    try {
      if (options.collectGarbage !== false) await collectGarbage(state);
      record = await allocateSandbox(state, pool, {
        name: options.name ?? null,
        proxyPort,
        ownerPid: process.pid,
        ownerStart: processStartTime(process.pid),
        profiles: options.profiles ?? [],
        credentials: options.credentials ?? [],
        createdAt: new Date().toISOString(),
      });
      await buildNetwork(record, async (step) => {
        await checkAborted(options.signal);
        await options.onBuildStep?.(step);
      });
      const cgroup = createCgroup(record.id, limits);
      await checkAborted(options.signal);
      return new Sandbox(record, state, ownsState, user, tools, cgroup, machine, options);
    } catch (error) {
      if (record !== null) {
        await teardownSandbox(record).catch(() => undefined);
        state.sandboxes.end(record.id, null);
      }
      if (ownsState) state.close();
      throw error;
    }
  }

  /** The environment every guest of this sandbox starts with (nothing else is inherited). */
  guestEnv(extra: Record<string, string> = {}): Record<string, string> {
    return buildGuestEnv(this.#invokingEnv, this.user.home, this.#env, extra);
  }

  /** Adds variables (placeholders, base URLs) for guests started from now on. */
  setGuestVariables(vars: Record<string, string>): void {
    Object.assign(this.#env, vars);
  }

  /** Adds read-only files (absolute paths under /run, each as the parts its content is written from) to the view of guests started from now on. */
  setGuestFiles(files: Record<string, readonly string[]>): void {
    for (const [path, content] of Object.entries(files)) this.#files.set(path, content);
  }

  /** Starts a command in the sandbox and streams its stdio. */
  spawn(command: readonly string[], options: GuestCommandOptions = {}): GuestProcess {
    if (this.#closed) throw new AirlockError('AIRLOCK_ERR_SANDBOX_CLOSED', `sandbox ${this.id} is closed`);
    if (command.length === 0) throw new AirlockError('AIRLOCK_ERR_USAGE', 'no command given');
    assertRootSafeEnv(options.env ?? {});
    const workdir = options.workdir == null ? null : checkWorkdir(options.workdir, this.#state.home);
    const user = options.user ?? this.user;
    const env = buildGuestEnv(this.#invokingEnv, user.home, this.#env, options.env ?? {});
    const files = [...this.#files.keys()].map((path, i) => ({ path, fd: FIRST_FILE_FD + i }));
    const view = { home: user.home, workdir, mounts: this.#mounts, hidden: this.#hidden, files };
    const proc = startGuest(
      this.#tools,
      this.netns,
      guestArgv(this.#tools, view, user, command),
      env,
      options.stdio ?? 'pipe',
      this.#cgroup,
      this.#arch,
      [...this.#files.values()],
    );
    this.#children.add(proc);
    void proc.exited.then(() => this.#children.delete(proc));
    return proc;
  }

  /** What the kernel counted for this sandbox so far: processes killed for memory, forks refused. */
  events(): CgroupEvents {
    return this.#cgroup.events();
  }

  /** Runs a command to completion and collects its output. */
  async exec(
    command: readonly string[],
    options: GuestCommandOptions & { input?: string } = {},
  ): Promise<ExecResult> {
    return collectOutput(this.spawn(command, { ...options, stdio: ['pipe', 'pipe', 'pipe'] }), options.input);
  }

  /** Kills what still runs inside, removes cgroup, namespace, link and set element, frees the slot. */
  async close(exitStatus: number | null = null): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const proc of this.#children) proc.kill();
    try {
      await teardownSandbox(this.record, this.#cgroup);
    } finally {
      this.#state.sandboxes.end(this.id, exitStatus);
      if (this.#ownsState) this.#state.close();
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** Feeds `input` to a piped guest command and collects its output and exit status. */
export async function collectOutput(proc: GuestProcess, input = ''): Promise<ExecResult> {
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  proc.stdout?.on('data', (b: Buffer) => stdout.push(b));
  proc.stderr?.on('data', (b: Buffer) => stderr.push(b));
  proc.stdin?.on('error', () => undefined).end(input);
  const status = await proc.exited;
  return { status, stdout: Buffer.concat(stdout).toString(), stderr: Buffer.concat(stderr).toString() };
}

/**
 * Throws the abort reason, after one turn of the event loop: the build is all synchronous
 * calls now, and a signal (Ctrl-C) is only seen while the loop polls.
 */
async function checkAborted(signal: AbortSignal | undefined): Promise<void> {
  if (signal === undefined) return;
  await new Promise<void>((resolve) => setImmediate(resolve));
  signal.throwIfAborted();
}
