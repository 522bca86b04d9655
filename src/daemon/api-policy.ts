import * as z from 'zod';
import type { LoadedConfig } from '../config/index.js';
import { resolveLimits } from '../config/limits.js';
import type { SandboxChange, SandboxSpec } from '../engine/enforced-sandbox.js';
import { AirlockError } from '../errors.js';
import { assertRootSafeEnv } from '../sandbox/guest-env.js';
import { SANDBOX_NAME, SANDBOX_NAME_RULE } from '../sandbox/names.js';
import type { ChangeBody, CreateBody, ExecSpec } from './protocol.js';

/**
 * What a caller of the daemon's socket may ask for. The socket may be open to a group of
 * unprivileged users, so nothing in a request may reach beyond the daemon's config: no
 * secret source (`env:`/`file:` would read root's environment or files), no mount or working
 * directory (root's files), no guest user other than the config's, no upstream, `resolve`
 * pin or CA (those exist only in the config and the API has no field for them), and no
 * variable that the root-run tools before the guest (ip, bwrap, setpriv) would obey.
 */

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const envRecord = z.record(z.string(), z.string());

const createSchema = z.strictObject({
  name: z.string().regex(SANDBOX_NAME, SANDBOX_NAME_RULE).optional(),
  profiles: z.array(z.string()).optional(),
  credentials: z.array(z.string()).optional(),
  secrets: z.record(z.string(), z.string().min(1)).optional(),
  allowEndpoints: z.array(z.string()).optional(),
  env: envRecord.optional(),
  limits: z
    .strictObject({ memory: z.string().optional(), pids: z.string().optional(), cpus: z.string().optional() })
    .optional(),
  user: z.string().optional(),
  budgets: z.array(z.string()).optional(),
  learn: z.boolean().optional(),
  intercept: z.enum(['credentials', 'all']).optional(),
});

const changeSchema = z.strictObject({
  credentials: z.array(z.string()).optional(),
  secrets: z.record(z.string(), z.string().min(1)).optional(),
  revoke: z.array(z.string()).optional(),
  budgets: z.array(z.string()).optional(),
  allowEndpoints: z.array(z.string()).optional(),
});

const execSchema = z.strictObject({
  command: z.array(z.string()).min(1),
  env: envRecord.optional(),
  tty: z.boolean().optional(),
});

function parse<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  const result = schema.safeParse(body);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`);
    throw new AirlockError('AIRLOCK_ERR_USAGE', `${what}: ${problems.join('; ')}`);
  }
  return result.data;
}

/** Refuses variable names that are not names, or that the root-run tools would obey. */
export function checkCallerEnv(env: Record<string, string>): Record<string, string> {
  for (const name of Object.keys(env)) {
    if (!NAME.test(name)) {
      throw new AirlockError('AIRLOCK_ERR_USAGE', `env: "${name}" is not a variable name ([A-Za-z0-9_])`);
    }
  }
  assertRootSafeEnv(env, 'AIRLOCK_ERR_FORBIDDEN');
  return env;
}

/** Credentials a caller names must be the daemon config's, by name (a source would read root's). */
function checkCallerCredentials(names: readonly string[], loaded: LoadedConfig): void {
  const granted = loaded.config.credentials;
  for (const cred of names) {
    if (cred.includes('=')) {
      throw new AirlockError(
        'AIRLOCK_ERR_FORBIDDEN',
        `credential ${cred.slice(0, cred.indexOf('='))}: a daemon caller cannot name a secret source (env:, file:)`,
        {
          hint: 'name a credential the daemon config holds, or pass the value you hold (airlock create reads NAME=env:VAR and NAME=file:PATH itself)',
        },
      );
    }
    if (!Object.hasOwn(granted, cred)) {
      throw new AirlockError(
        'AIRLOCK_ERR_FORBIDDEN',
        `credential ${cred}: the daemon config holds no such credential`,
        {
          hint: `the config holds: ${Object.keys(granted).join(', ') || 'none'}; or pass the value you hold`,
        },
      );
    }
  }
}

/** Values a caller holds: variable names, and nothing that would split the header they go in. */
function checkCallerSecrets(secrets: Record<string, string>): void {
  for (const [name, value] of Object.entries(secrets)) {
    if (!NAME.test(name))
      throw new AirlockError('AIRLOCK_ERR_USAGE', `secrets: "${name}" is not a variable name`);
    // a line break would split the header the proxy writes it into; never echo the value
    // eslint-disable-next-line no-control-regex
    if (/[\x00-\x1f\x7f]/.test(value)) {
      throw new AirlockError(
        'AIRLOCK_ERR_SECRET_SOURCE',
        `secrets: ${name} holds a line break or control character`,
      );
    }
  }
}

/** The sandbox a create request asks for, or a refusal naming what the config does not grant. */
export function createSpec(body: unknown, loaded: LoadedConfig): SandboxSpec {
  const b: CreateBody = parse(createSchema, body ?? {}, 'POST /v1/sandboxes');
  checkCallerCredentials(b.credentials ?? [], loaded);
  const guestUser = loaded.config.daemon.guestUser;
  if (b.user !== undefined && b.user !== guestUser) {
    throw new AirlockError(
      'AIRLOCK_ERR_FORBIDDEN',
      `user ${b.user}: daemon sandboxes run as ${guestUser} (daemon.guestUser)`,
    );
  }
  checkCallerSecrets(b.secrets ?? {});
  if (b.learn && Object.keys(loaded.config.endpoints).length > 0) {
    throw new AirlockError(
      'AIRLOCK_ERR_FORBIDDEN',
      'learn: the daemon config has endpoint rules, and a caller cannot lift them',
      { hint: 'record with `airlock run --learn` as root, or without the config endpoints' },
    );
  }
  if (b.intercept === 'credentials' && loaded.config.intercept === 'all') {
    throw new AirlockError(
      'AIRLOCK_ERR_FORBIDDEN',
      'intercept credentials: the daemon config inspects every tunnel ("intercept": "all"), and a caller cannot lift that',
    );
  }
  return {
    ...(b.intercept ? { intercept: b.intercept } : {}),
    name: b.name,
    profiles: b.profiles ?? [],
    // the config's credentials are granted to every sandbox; the names only confirm them
    credentials: [],
    secrets: b.secrets ?? {},
    allowEndpoints: b.allowEndpoints ?? [],
    env: checkCallerEnv(b.env ?? {}),
    limits: resolveLimits(loaded.config.limits, b.limits ?? {}),
    user: guestUser,
    mounts: [],
    // a caller may add budgets; the config's apply to every sandbox all the same
    budgets: b.budgets ?? [],
    learn: b.learn ?? false,
  };
}

/** A live change a caller asks for: the same limits as create (config credentials by name, held values). */
export function changeSpec(body: unknown, loaded: LoadedConfig): SandboxChange {
  const b: ChangeBody = parse(changeSchema, body ?? {}, 'PATCH /v1/sandboxes/:ref');
  checkCallerCredentials(b.credentials ?? [], loaded);
  checkCallerSecrets(b.secrets ?? {});
  return b;
}

/** An exec request's spec from its header value (base64url JSON). */
export function execSpec(header: string | undefined): ExecSpec {
  if (header === undefined) {
    throw new AirlockError('AIRLOCK_ERR_DAEMON_PROTOCOL', 'the exec request carries no airlock-exec header');
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(header, 'base64url').toString('utf8'));
  } catch {
    throw new AirlockError('AIRLOCK_ERR_DAEMON_PROTOCOL', 'the airlock-exec header is not base64url JSON');
  }
  const spec = parse(execSchema, body, 'exec');
  checkCallerEnv(spec.env ?? {});
  return spec;
}
