import type { ChildProcess } from 'node:child_process';
import { statSync } from 'node:fs';
import { DEFAULT_PROXY_PORT } from '../config/env-vars.js';
import { AirlockError } from '../errors.js';
import type { SandboxRecord } from '../store/sandbox-records.js';
import { DEFAULT_POOL, parsePool } from '../net/address-pool.js';
import { allocateSandbox } from './allocation.js';
import { collectGarbage } from './gc.js';
import { buildGuestEnv } from './guest-env.js';
import { exitStatusOf, guestArgv, startGuest, type GuestCommandOptions } from './guest-process.js';
import { resolveGuestUser, type GuestUser } from './guest-user.js';
import { buildNetwork, processStartTime, teardownNetwork, type BuildStep } from './resources.js';
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
  /** called after each build step; a throw aborts the build (tests use it to inject faults) */
  onBuildStep?: (step: BuildStep) => Promise<void> | void;
}

/** The result of `exec`: collected output and the shell-style exit status. */
export interface ExecResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** A running guest command started by `spawn`. */
export interface GuestProcess {
  child: ChildProcess;
  /** resolves with the shell-style exit status (128 + n when killed by signal n) */
  exited: Promise<number>;
  /** sends a signal to the guest's whole process chain */
  signal(signal: NodeJS.Signals): void;
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
  /** absolute paths of ip, unshare, setpriv, tini… found before the sandbox was built */
  #tools: Record<Tool, string>;

  private constructor(
    record: SandboxRecord,
    state: State,
    ownsState: boolean,
    user: GuestUser,
    tools: Record<Tool, string>,
    options: SandboxOptions,
  ) {
    this.record = record;
    this.#tools = tools;
    this.#state = state;
    this.#ownsState = ownsState;
    this.user = user;
    this.#env = { ...options.env };
    this.#invokingEnv = options.invokingEnv ?? process.env;
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
    const pool = parsePool(options.pool ?? DEFAULT_POOL);
    const user = resolveGuestUser(options.user, options.invokingEnv ?? process.env);
    const proxyPort = options.proxyPort ?? DEFAULT_PROXY_PORT;
    if (!Number.isInteger(proxyPort) || proxyPort < 1 || proxyPort > 65535) {
      throw new AirlockError('AIRLOCK_ERR_CONFIG', `proxy port ${proxyPort} is not a TCP port (1-65535)`);
    }
    const state = options.state ?? openState(options.home);
    const ownsState = options.state === undefined;
    let record: SandboxRecord | null = null;
    try {
      await collectGarbage(state);
      record = await allocateSandbox(state, pool, {
        name: options.name ?? null,
        proxyPort,
        ownerPid: process.pid,
        ownerStart: processStartTime(process.pid),
        profiles: options.profiles ?? [],
        credentials: options.credentials ?? [],
        createdAt: new Date().toISOString(),
      });
      await buildNetwork(record, options.onBuildStep);
      return new Sandbox(record, state, ownsState, user, tools, options);
    } catch (error) {
      if (record !== null) {
        await teardownNetwork(record).catch(() => undefined);
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

  /** Starts a command in the sandbox and streams its stdio. */
  spawn(command: readonly string[], options: GuestCommandOptions = {}): GuestProcess {
    if (this.#closed) throw new AirlockError('AIRLOCK_ERR_SANDBOX_CLOSED', `sandbox ${this.id} is closed`);
    if (command.length === 0) throw new AirlockError('AIRLOCK_ERR_USAGE', 'no command given');
    const cwd = options.cwd ?? '/';
    if (!isDirectory(cwd)) {
      throw new AirlockError('AIRLOCK_ERR_WORKDIR', `working directory ${cwd} is not a directory`);
    }
    const user = options.user ?? this.user;
    const env = buildGuestEnv(this.#invokingEnv, user.home, this.#env, options.env ?? {});
    const child = startGuest(
      this.#tools,
      guestArgv(this.#tools, this.netns, user, command),
      env,
      cwd,
      options.stdio ?? 'pipe',
    );
    const exited = new Promise<number>((resolve) => {
      child.once('error', () => resolve(127));
      child.once('close', (code, signal) => resolve(exitStatusOf(code, signal)));
    });
    const proc: GuestProcess = {
      child,
      exited,
      signal: (signal) => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, signal);
        } catch {
          // already exited
        }
      },
    };
    this.#children.add(proc);
    void exited.then(() => this.#children.delete(proc));
    return proc;
  }

  /** Runs a command to completion and collects its output. */
  async exec(
    command: readonly string[],
    options: GuestCommandOptions & { input?: string } = {},
  ): Promise<ExecResult> {
    const proc = this.spawn(command, { ...options, stdio: ['pipe', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    proc.child.stdout?.on('data', (b: Buffer) => stdout.push(b));
    proc.child.stderr?.on('data', (b: Buffer) => stderr.push(b));
    proc.child.stdin?.end(options.input ?? '');
    const status = await proc.exited;
    return { status, stdout: Buffer.concat(stdout).toString(), stderr: Buffer.concat(stderr).toString() };
  }

  /** Kills what still runs inside, removes namespace, link and set element, frees the slot. */
  async close(exitStatus: number | null = null): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const proc of this.#children) proc.signal('SIGKILL');
    try {
      await teardownNetwork(this.record);
    } finally {
      this.#state.sandboxes.end(this.id, exitStatus);
      if (this.#ownsState) this.#state.close();
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
