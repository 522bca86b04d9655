import { constants } from 'node:os';
import { AirlockError } from '../errors.js';
import { parseEnvAssignments } from '../sandbox/guest-env.js';
import { airlockHome } from '../config/env-vars.js';
import { formatSize, resolveLimits, type Limits } from '../config/limits.js';
import { loadConfig } from '../config/load-config.js';
import { parseDuration } from '../audit/query.js';
import type { GuestProcess } from '../sandbox/guest-process.js';
import { checkWorkdir, parseMount } from '../sandbox/host-paths.js';
import { Engine, type EngineSandbox } from '../engine/engine.js';
import { sandboxBudgets, sandboxPolicy } from '../engine/enforced-sandbox.js';
import { blockedLines, summaryLine } from './blocked-lines.js';
import type { CliIo, Command } from './command.js';
import { closeAfter } from './close-after.js';
import { interceptFlag, listFlag, parseFlags, stringFlag } from './flags.js';

const FLAGS = {
  profile: { value: true, multiple: true },
  cred: { value: true, multiple: true },
  config: { value: true },
  'allow-endpoint': { value: true, multiple: true },
  budget: { value: true, multiple: true },
  learn: {},
  intercept: { value: true },
  env: { value: true, multiple: true },
  name: { value: true },
  user: { value: true },
  workdir: { value: true },
  'no-workdir': {},
  mount: { value: true, multiple: true },
  memory: { value: true },
  pids: { value: true },
  cpus: { value: true },
  grace: { value: true },
  quiet: {},
} as const;

const HELP = `Usage: airlock run [flags] -- CMD [ARGS...]

Runs CMD in a new sandbox: its own network namespace whose only way out is TCP to its
gateway on the proxy port; its own PID, IPC and mount namespace with a view of the file
system of its own (the system read-only, private /tmp, /run and /dev/shm, an empty HOME,
the working directory and --mount folders; nothing else of the host); an unprivileged user
with no capabilities; a clean environment; and memory, process and CPU limits. The sandbox
and everything in it is removed when CMD exits, and dies with airlock.

Flags:
  --profile NAME      network profile (repeatable, composes): deny-all, llm-only, github,
                      open, or one from the config file; see \`airlock profiles\`
  --cred NAME[=SRC]   grant a credential: NAME reads $NAME, NAME=env:VAR, NAME=file:PATH
                      (repeatable); the guest gets a placeholder and base URL instead
  --allow-endpoint S:METHOD:/PATH
                      allow only these endpoints of service S (repeatable), e.g.
                      openai:POST:/v1/chat/completions; a rate after a space caps the
                      requests a rule matches: 'openai:POST:/v1/chat/* 60/1m'
  --budget [CRED:]KIND=AMOUNT[/WINDOW]
                      a token, cost or request budget (repeatable): tokens, input, output,
                      usd or requests, e.g. tokens=200k/1h, usd=5/day, requests=600/1h,
                      OPENAI_API_KEY:output=50k; past it calls get 429 (docs/budgets.md). With --name, a later run of
                      the same name carries on with what the earlier ones used
  --learn             record what CMD does for \`airlock learn\`: endpoint rules are not
                      enforced (the profiles' hosts are); see docs/learn.md
  --intercept SCOPE   which HTTPS tunnels airlock opens with the sandbox's own CA:
                      credentials (default: the hosts of granted credentials, whose tokens
                      it injects) or all (every allowed host, each request audited with
                      its method and path); see docs/proxy.md
  --config FILE       configuration file (default: $AIRLOCK_CONFIG, else /etc/airlock/config.json)
  --env K=V           set a variable in the guest (repeatable)
  --name NAME         a label for the sandbox
  --user USER         guest user: NAME, UID or UID:GID (default: the sudo caller, else nobody)
  --workdir DIR       folder bound read-write at the same path as CMD's working directory
                      (default: the current directory; never /, /tmp, a home or the state
                      directory itself)
  --no-workdir        bind no working directory; CMD starts in its empty HOME
  --mount SRC:DST[:ro|rw]
                      show a host folder or file at DST (repeatable; default rw)
  --memory SIZE       memory of the whole sandbox, e.g. 512m or 2g (default: half the RAM)
  --pids N            processes and threads at once (default: 1024)
  --cpus N            CPU time as a number of CPUs, e.g. 1.5 (default: no quota)
  --grace DURATION    time CMD has to exit after Ctrl-C or SIGTERM before it is killed,
                      e.g. 30s (default: 10s); a second Ctrl-C kills at once
  --quiet             print no line per blocked request and no summary at exit
  -h, --help          show this help

Each request or connection the proxy refuses is shown on stderr as it happens
(\`airlock: blocked GET api.openai.com/v1/models — …\`, a few a second at most), and a guest
that used the proxy ends with one line: requests, denied, tokens. The guest's stdout is
its own. With budgets, the line adds what each used and the estimated cost.

Exit status: CMD's own; 125 when airlock fails (usage, config, setup: CMD never ran); 126
when CMD cannot be run; 127 when it is not found; 128+n when it dies of signal n.
Ctrl-C and other signals are passed to CMD.
`;

/** Signals a user sends to "the program"; airlock hands them to the guest. */
const FORWARDED_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];

export const runCommand: Command = {
  help: HELP,
  async run(args: string[], io: CliIo): Promise<number> {
    // in place before anything is made: an interrupt during setup removes what was made so far
    const lifetime = guestLifetime();
    try {
      return await runSandboxed(args, io, lifetime);
    } catch (error) {
      if (lifetime.interrupted === undefined) throw error;
      io.stderr.write(`airlock: interrupted by ${lifetime.interrupted}; nothing was left behind\n`);
      return 128 + constants.signals[lifetime.interrupted];
    } finally {
      lifetime.dispose();
    }
  },
};

async function runSandboxed(args: string[], io: CliIo, lifetime: GuestLifetime): Promise<number> {
  const { flags, rest, help } = parseFlags(args, FLAGS, { stopAtPositional: true, command: 'run' });
  if (help) {
    io.stdout.write(HELP);
    return 0;
  }
  if (rest.length === 0) {
    throw new AirlockError('AIRLOCK_ERR_USAGE', 'airlock run: no command given', {
      hint: 'airlock run [flags] -- CMD [ARGS...]',
    });
  }
  if (flags['no-workdir'] && stringFlag(flags, 'workdir') !== undefined) {
    throw new AirlockError('AIRLOCK_ERR_USAGE', 'airlock run: --workdir and --no-workdir exclude each other');
  }
  const env = parseEnvAssignments(listFlag(flags, 'env'));
  const home = airlockHome(io.env);
  const mounts = listFlag(flags, 'mount').map((m) => parseMount(m, home));
  const config = loadConfig(stringFlag(flags, 'config'), { env: io.env });
  const limits = resolveLimits(config.config.limits, {
    memory: stringFlag(flags, 'memory'),
    pids: stringFlag(flags, 'pids'),
    cpus: stringFlag(flags, 'cpus'),
  });
  const grace = stringFlag(flags, 'grace');
  const graceMs =
    grace === undefined ? config.config.limits.graceSeconds * 1000 : parseDuration(grace, '--grace');
  // checked before anything is built: a refused working directory costs no sandbox
  const workdir = flags['no-workdir']
    ? null
    : checkWorkdir(stringFlag(flags, 'workdir') ?? process.cwd(), home);
  const quiet = flags.quiet === true;
  const name = stringFlag(flags, 'name');
  let label = name ?? ''; // the sandbox's name, else its id once it has one
  const blocked = quiet ? undefined : blockedLines(io.stderr, () => label);
  const spec = {
    onRefusal: blocked?.listener,
    credentials: listFlag(flags, 'cred'),
    profiles: listFlag(flags, 'profile'),
    allowEndpoints: listFlag(flags, 'allow-endpoint'),
    budgets: listFlag(flags, 'budget'),
    learn: flags.learn === true,
    intercept: interceptFlag(stringFlag(flags, 'intercept')),
    name,
    user: stringFlag(flags, 'user'),
    env,
    limits,
    mounts,
    signal: lifetime.abort.signal,
  };
  // a bad profile, credential or budget is reported before anything is built
  sandboxPolicy(config, spec);
  sandboxBudgets(config, spec);
  // the embedded engine: this process hosts its one sandbox
  const engine = await Engine.open({
    home,
    config,
    invokingEnv: io.env,
    logStream: io.stderr,
    auditThread: io.auditThread,
  });
  let status: number | null = null;
  return closeAfter(
    async () => {
      const sandbox = await engine.create(spec);
      label ||= sandbox.id;
      for (const warning of sandbox.warnings) io.stderr.write(`airlock: warning: ${warning}\n`);
      return closeAfter(
        async () => {
          const guest = sandbox.spawn(rest, { workdir, stdio: 'inherit' });
          lifetime.attach(guest, graceMs);
          status = await guest.exited;
          reportLimits(sandbox, limits, io);
          if (blocked) {
            blocked.close();
            io.stderr.write(
              summaryLine(await engine.summary({ sandbox: sandbox.id }), label, {
                budgets: sandbox.budgets(),
                spend: sandbox.spend(),
              }),
            );
          }
          return status;
        },
        () => sandbox.close(status),
        io,
      );
    },
    () => engine.close(),
    io,
  );
}

/** What `run` does with the signals it receives, before and after the guest starts. */
interface GuestLifetime {
  /** aborted by a signal that arrives while the sandbox is being built */
  abort: AbortController;
  /** the signal that interrupted setup, if one did */
  interrupted: NodeJS.Signals | undefined;
  /** from now on signals go to the guest: the first is passed on, the grace period starts */
  attach(guest: GuestProcess, graceMs: number): void;
  dispose(): void;
}

/**
 * During setup a signal aborts the build (everything made so far is removed). Once the guest
 * runs, the first signal is passed to it and starts the grace period; a guest still running
 * when it ends, or at a second signal, is killed with its whole PID namespace.
 */
function guestLifetime(): GuestLifetime {
  let guest: GuestProcess | undefined;
  let graceMs = 0;
  let timer: NodeJS.Timeout | undefined;
  const lifetime: GuestLifetime = {
    abort: new AbortController(),
    interrupted: undefined,
    attach(g, ms) {
      guest = g;
      graceMs = ms;
      void g.exited.then(() => clearTimeout(timer));
    },
    dispose() {
      clearTimeout(timer);
      for (const s of FORWARDED_SIGNALS) process.off(s, onSignal);
    },
  };
  function onSignal(signal: NodeJS.Signals): void {
    if (guest === undefined) {
      lifetime.interrupted ??= signal;
      lifetime.abort.abort(new AirlockError('AIRLOCK_ERR_GUEST_START', `interrupted by ${signal}`));
    } else if (timer !== undefined) {
      guest.kill();
    } else {
      guest.signal(signal);
      const g = guest;
      timer = setTimeout(() => g.kill(), graceMs);
    }
  }
  for (const s of FORWARDED_SIGNALS) process.on(s, onSignal);
  return lifetime;
}

/** Tells the user when the kernel enforced a limit: otherwise a killed process looks like a crash. */
function reportLimits(sandbox: EngineSandbox, limits: Limits, io: CliIo): void {
  const { oomKills, forksRefused } = sandbox.events();
  if (oomKills > 0) {
    io.stderr.write(
      `airlock: the sandbox reached its memory limit (${formatSize(limits.memoryBytes)}): ${oomKills} process(es) killed; see --memory\n`,
    );
  }
  if (forksRefused > 0) {
    io.stderr.write(
      `airlock: the sandbox reached its process limit (${limits.pids}): ${forksRefused} fork(s) refused; see --pids\n`,
    );
  }
}
