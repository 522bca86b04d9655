import type { BudgetView, Spend } from '../budget/index.js';
/**
 * What the daemon's API says, for both sides: the socket path, the bodies of each route and
 * the error shape. See docs/daemon.md.
 */

/** where `airlock daemon` listens and its clients connect (omitted = AIRLOCK_SOCKET, else this) */
export const DEFAULT_SOCKET = '/run/airlock/airlock.sock';
/** the `Upgrade` token of the exec stream */
export const EXEC_PROTOCOL = 'airlock-exec/1';
/** request header carrying the exec spec as base64url JSON */
export const EXEC_HEADER = 'airlock-exec';

/** `POST /v1/sandboxes` */
export interface CreateBody {
  name?: string;
  profiles?: string[];
  /** credential variable NAMES the daemon's config holds (never a source) */
  credentials?: string[];
  /** credential variable name → the real value, which the caller already holds */
  secrets?: Record<string, string>;
  /** `service:METHOD:/path` */
  allowEndpoints?: string[];
  /** variables every command of the sandbox gets */
  env?: Record<string, string>;
  /** `memory` (e.g. 512m), `pids`, `cpus` as given on the command line */
  limits?: { memory?: string; pids?: string; cpus?: string };
  /** must be the daemon's `daemon.guestUser` when given */
  user?: string;
  /** `[CREDENTIAL:]KIND=AMOUNT[/WINDOW]`, added to the config's budgets (which always apply) */
  budgets?: string[];
  /** learn mode (refused when the daemon config has endpoint rules: they bind every caller) */
  learn?: boolean;
  /** which HTTPS tunnels to inspect: `credentials` or `all` (omitted = the config's; `credentials` is refused when the config says `all`) */
  intercept?: 'credentials' | 'all';
}

export interface CreatedSandbox {
  id: string;
  name: string | null;
  proxyUrl: string;
  warnings: string[];
}

/** One row of `GET /v1/sandboxes` (and `GET /v1/sandboxes/:ref`). */
export interface SandboxInfo {
  id: string;
  name: string | null;
  createdAt: string;
  /** seconds since it was created */
  ageSeconds: number;
  profiles: string[];
  /** credential variable NAMES (never values) */
  credentials: string[];
  proxyUrl: string;
  /** commands running now */
  running: number;
  /** audit rows of this sandbox */
  requests: number;
  /** of which denied */
  denied: number;
  /** input + output tokens the responses reported */
  tokens: number;
  /** packets the guest's own ruleset refused (null = could not be read) */
  packetsBlocked: number | null;
  /** its token and cost budgets: used, held by calls in flight, when each starts afresh */
  budgets: BudgetView[];
  /** what its LLM calls used, with the estimated cost from the price table */
  spend: Spend;
}

/** `PATCH /v1/sandboxes/:ref`: a live change; `budgets` and `allowEndpoints` replace the sandbox's own. */
export interface ChangeBody {
  /** credential variable NAMES the daemon's config holds, to attach */
  credentials?: string[];
  /** credentials to attach whose value the caller holds */
  secrets?: Record<string, string>;
  /** credential variable names to take away */
  revoke?: string[];
  budgets?: string[];
  allowEndpoints?: string[];
}

/** The exec spec: sent in the `airlock-exec` header of the upgrade request. */
export interface ExecSpec {
  command: string[];
  env?: Record<string, string>;
  /** run the command on a terminal (`script` inside the guest) */
  tty?: boolean;
}

/** Every error answer: `{ error: { code, message, hint? } }` with a code of src/errors.ts. */
export interface ErrorBody {
  error: { code: string; message: string; hint?: string };
}

/** Signals a client may send to its command. */
export const EXEC_SIGNALS: readonly NodeJS.Signals[] = [
  'SIGINT',
  'SIGTERM',
  'SIGHUP',
  'SIGQUIT',
  'SIGKILL',
  'SIGUSR1',
  'SIGUSR2',
  'SIGWINCH',
];
