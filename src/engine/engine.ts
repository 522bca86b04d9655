import {
  createAuditQuery,
  type RequestFilter,
  type RequestRecord,
  type RequestSummary,
} from '../audit/query.js';
import { startAuditThread, type BootedAuditThread } from '../audit/threaded-writer.js';
import type { BudgetView, Spend } from '../budget/index.js';
import type { LoadedConfig } from '../config/index.js';
import { parseConfig } from '../config/load-config.js';
import { logLevel } from '../config/env-vars.js';
import { AirlockError } from '../errors.js';
import type { SandboxPolicy } from '../policy/index.js';
import type { CgroupEvents } from '../sandbox/cgroup.js';
import { collectSandboxGarbage, removeStaleElements } from '../sandbox/gc.js';
import type { GuestCommandOptions, GuestProcess } from '../sandbox/guest-process.js';
import { assertRoot } from '../sandbox/privileges.js';
import { collectOutput, type Sandbox } from '../sandbox/sandbox.js';
import { openState, type State } from '../sandbox/state.js';
import {
  assertCallerVariables,
  createEnforcedSandbox,
  readCaFiles,
  type EngineResources,
  type EnforcedSandbox,
  type SandboxChange,
  type SandboxSpec,
} from './enforced-sandbox.js';
import { AuditRecords } from '../store/audit-records.js';
import type { ChangeRecord } from '../store/sandbox-changes.js';

export interface EngineOptions {
  /** state directory (omitted = AIRLOCK_HOME or /var/lib/airlock) */
  home?: string;
  /** the loaded config file (omitted = every default) */
  config?: LoadedConfig;
  /** where `env:` credential sources are read, and the variables guests may inherit (omitted = process.env) */
  invokingEnv?: NodeJS.ProcessEnv;
  /** where the proxies log (omitted = stderr) */
  logStream?: NodeJS.WritableStream;
  /** an audit thread booted before the engine opened (`bootAuditThread`; omitted = one is started) */
  auditThread?: BootedAuditThread;
}

/** What `exec` collected: the guest's output and its shell-style exit status. */
export interface ExecOutput {
  stdout: string;
  stderr: string;
  /** 128 + n when the command died of signal n */
  exitCode: number;
}

/** How long a guest runs before its proxy loads undici's Agent (`RunningProxy.warmUp`). */
const WARM_UP_AFTER_MS = 50;

/** One sandbox of an engine: run commands in it, then remove it (or let the engine do so). */
export class EngineSandbox {
  readonly createdAt = new Date();
  #enforced: EnforcedSandbox;
  #running = new Set<GuestProcess>();
  #onClose: () => void;
  #closing: Promise<void> | undefined;
  #record: (change: ChangeRecord) => Promise<void>;
  #gc: Promise<void>;
  /** live changes, one at a time */
  #changes: Promise<unknown> = Promise.resolve();

  constructor(
    enforced: EnforcedSandbox,
    onClose: () => void,
    record: (change: ChangeRecord) => Promise<void>,
    gc: Promise<void>,
  ) {
    this.#enforced = enforced;
    this.#onClose = onClose;
    this.#record = record;
    this.#gc = gc;
  }

  /**
   * Changes the running sandbox: attach or revoke credentials, replace its budgets or endpoint
   * rules. Checked against the config first (nothing changes when it throws), then put on
   * record in the audit log (table sandbox_changes), then in effect for the next request.
   */
  update(change: SandboxChange): Promise<void> {
    const run = async () => {
      if (this.closed) throw new AirlockError('AIRLOCK_ERR_SANDBOX_CLOSED', `sandbox ${this.id} is closed`);
      const planned = this.#enforced.plan(change);
      const at = Date.now();
      for (const r of planned.records) await this.#record({ ...r, sandbox: this.id, at });
      planned.apply();
    };
    const done = this.#changes.then(run, run);
    this.#changes = done.catch(() => undefined);
    return done;
  }

  get id(): string {
    return this.#enforced.sandbox.id;
  }
  get name(): string | null {
    return this.#enforced.sandbox.record.name;
  }
  /** `http://<gateway>:<port>`: the only place its guests can reach */
  get proxyUrl(): string {
    return this.#enforced.proxyUrl;
  }
  get policy(): SandboxPolicy {
    return this.#enforced.policy;
  }
  /** lines worth showing a person (e.g. the `open` profile's warning) */
  get warnings(): readonly string[] {
    return this.#enforced.warnings;
  }
  /** its budgets now: used, held by calls in flight, when each window starts afresh */
  budgets(): BudgetView[] {
    return this.#enforced.budget.view();
  }
  /** what its LLM calls used so far, and their estimated cost from the price table */
  spend(): Spend {
    return this.#enforced.budget.spend();
  }
  /** the kernel-level sandbox (namespace, addresses, guest user) */
  get sandbox(): Sandbox {
    return this.#enforced.sandbox;
  }
  /** commands running now */
  get running(): number {
    return this.#running.size;
  }
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /** Starts a command and streams its stdio (pipes unless `stdio` says otherwise). */
  spawn(command: readonly string[], options: GuestCommandOptions = {}): GuestProcess {
    if (this.closed) throw new AirlockError('AIRLOCK_ERR_SANDBOX_CLOSED', `sandbox ${this.id} is closed`);
    assertCallerVariables(options.env ?? {}, this.#enforced.policy);
    const proc = this.#enforced.sandbox.spawn(command, options);
    // once the guest has run a while: not while it starts (loading undici's Agent takes this
    // thread ~15 ms, and the start competes with it for a small machine's CPU), not at all for a
    // guest that ends sooner, and before a first request, which comes after an SDK's own start
    // (a request sooner than that loads the Agent itself)
    proc.started.then(
      () => void setTimeout(() => this.#enforced.warmUp(), WARM_UP_AFTER_MS).unref(),
      () => undefined,
    );
    this.#running.add(proc);
    void proc.exited.then(
      () => this.#running.delete(proc),
      () => this.#running.delete(proc),
    );
    return proc;
  }

  /** Runs a command to completion and collects its output. */
  async exec(
    command: readonly string[],
    options: Omit<GuestCommandOptions, 'stdio'> & { input?: string } = {},
  ): Promise<ExecOutput> {
    const proc = this.spawn(command, { ...options, stdio: ['pipe', 'pipe', 'pipe'] });
    const { status, stdout, stderr } = await collectOutput(proc, options.input);
    return { exitCode: status, stdout, stderr };
  }

  /** What the kernel counted: processes killed for memory, forks refused. */
  events(): CgroupEvents {
    return this.#enforced.sandbox.events();
  }

  /** Kills what runs inside, stops its proxy, removes everything it had. Idempotent. */
  close(exitStatus: number | null = null): Promise<void> {
    // after the engine's gc of stale set elements: a listing taken before this teardown and
    // the links read after it would take this sandbox's element for a stale one
    this.#closing ??= this.#gc.then(() => this.#enforced.close(exitStatus)).finally(this.#onClose);
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * Hosts many sandboxes in one process: one state directory, one audit writer, the host's
 * allocator, and each sandbox's proxy listener on its own gateway address (a sandbox's
 * identity is its network address, never anything its guest sends). `airlock run` opens one
 * for its single sandbox; `airlock daemon` keeps one open.
 */
export class Engine {
  readonly home: string;
  readonly config: LoadedConfig;
  #resources: EngineResources;
  #sandboxes = new Map<string, EngineSandbox>();
  #closed = false;

  /** the gc of stale set elements, started with the first sandbox; waited for by `close` */
  #elements: Promise<void> | undefined;

  private constructor(home: string, resources: EngineResources) {
    this.home = home;
    this.config = resources.loaded;
    this.#resources = resources;
  }

  /** Opens the state directory and its audit log; ends what crashed airlock processes left. */
  static async open(options: EngineOptions = {}): Promise<Engine> {
    logLevel(options.invokingEnv ?? process.env); // a bad level is refused before anything is opened
    assertRoot('creating a sandbox');
    const loaded = options.config ?? parseConfig({});
    const { config, catalogue } = loaded;
    const upstreamCa = readCaFiles(config.upstreamCa);
    const hostCa = Object.fromEntries(
      catalogue.services.flatMap((s) => (s.caFile ? s.hosts.map((h) => [h, readCaFiles([s.caFile!])]) : [])),
    );
    const state: State = openState(options.home, config.audit.synchronous);
    try {
      await collectSandboxGarbage(state);
      // after gc has ended crashed sandboxes: their in-flight rows become `unknown` now, while
      // live sandboxes of other airlock processes keep theirs; on this thread's connection,
      // before any row of this engine's sandboxes exists
      new AuditRecords(state.db).recoverUnfinished();
    } catch (error) {
      state.close();
      throw error;
    }
    // the writer runs on its own thread: a commit's fsync never stalls the proxies
    const audit = startAuditThread({
      home: state.home,
      synchronous: config.audit.synchronous,
      maxBytes: config.audit.maxBytes,
      booted: options.auditThread,
    });
    return new Engine(state.home, {
      loaded,
      state,
      audit,
      invokingEnv: options.invokingEnv ?? process.env,
      logStream: options.logStream ?? process.stderr,
      upstreamCa,
      hostCa,
    });
  }

  /** Builds an enforced sandbox; fails closed (nothing is left when it throws). */
  async create(spec: SandboxSpec = {}): Promise<EngineSandbox> {
    if (this.#closed) throw new AirlockError('AIRLOCK_ERR_SANDBOX_CLOSED', 'the engine is closed');
    const name = spec.name;
    if (name !== undefined && [...this.#sandboxes.values()].some((s) => s.name === name)) {
      throw new AirlockError('AIRLOCK_ERR_NAME_TAKEN', `a live sandbox is already named "${name}"`);
    }
    const enforced = await createEnforcedSandbox(this.#resources, spec);
    const audit = this.#resources.audit;
    // From the first sandbox on, while its guest starts rather than while it was built (they
    // would compete for a small machine's CPU): the audit thread's boot (~100 ms of CPU), and
    // removing stale set elements, which needs an `nft` listing.
    audit.start();
    this.#elements ??= removeStaleElements().then(
      () => undefined,
      () => undefined, // what is left is removed by the next gc
    );
    const sandbox = new EngineSandbox(
      enforced,
      () => this.#sandboxes.delete(enforced.sandbox.id),
      (change) => audit.recordChange(change),
      this.#elements,
    );
    this.#sandboxes.set(sandbox.id, sandbox);
    return sandbox;
  }

  /** The live sandbox with this name or id. */
  get(ref: string): EngineSandbox {
    const found = this.#sandboxes.get(ref) ?? [...this.#sandboxes.values()].find((s) => s.name === ref);
    if (found === undefined) {
      throw new AirlockError('AIRLOCK_ERR_SANDBOX_UNKNOWN', `no live sandbox is named or numbered "${ref}"`, {
        hint: '`airlock ls` lists the live sandboxes',
      });
    }
    return found;
  }

  list(): EngineSandbox[] {
    return [...this.#sandboxes.values()];
  }

  /** The audit rows of this state directory (`sandbox` takes a name or id), committed first. */
  async requests(filter: RequestFilter = {}): Promise<RequestRecord[]> {
    await this.#resources.audit.flush();
    return createAuditQuery({ db: this.#resources.state.db }).list(filter);
  }

  /** Counts of the audit rows matching `filter`: requests, denied, errors, tokens. */
  async summary(filter: RequestFilter = {}): Promise<RequestSummary> {
    await this.#resources.audit.flush();
    return createAuditQuery({ db: this.#resources.state.db }).summary(filter);
  }

  /** Removes a sandbox; one that still runs commands only with `force`. */
  async remove(ref: string, options: { force?: boolean } = {}): Promise<void> {
    const sandbox = this.get(ref);
    if (sandbox.running > 0 && !options.force) {
      throw new AirlockError(
        'AIRLOCK_ERR_SANDBOX_BUSY',
        `sandbox ${ref} still runs ${sandbox.running} command(s)`,
        { hint: 'wait for them, or remove it with --force' },
      );
    }
    await sandbox.close();
  }

  /** Removes every sandbox, then commits the audit log and closes the state directory. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await Promise.allSettled([...this.list().map((s) => s.close()), this.#elements]);
      await this.#resources.audit.close();
    } finally {
      this.#resources.state.close();
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
