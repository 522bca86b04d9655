import { readFileSync } from 'node:fs';
import type { AuditService } from '../audit/threaded-writer.js';
import { createUsageTap } from '../audit/usage.js';
import {
  createBudgetLedger,
  endpointRates,
  parseBudget,
  priceTable,
  type BudgetLedger,
  type BudgetRule,
} from '../budget/index.js';
import type { Service } from '../catalogue/service.js';
import {
  parseCredFlag,
  parseSecretSource,
  resolveSecretSource,
  type LoadedConfig,
  type ResolvedSecret,
  type SecretSource,
} from '../config/index.js';
import { logLevel } from '../config/env-vars.js';
import { resolveLimits } from '../config/limits.js';
import { AirlockError } from '../errors.js';
import { createSandboxPolicy, type SandboxPolicy } from '../policy/index.js';
import {
  createSandboxCa,
  guestVariables,
  makePlaceholder,
  startProxy,
  proxyVariables,
  reservedVariable,
  type InterceptScope,
  type RefusalListener,
  type RunningProxy,
  type ServiceCredential,
} from '../proxy/index.js';
import { trustVariables } from '../sandbox/guest-env.js';
import { SANDBOX_NAME, SANDBOX_NAME_RULE } from '../sandbox/names.js';
import { trustFiles } from '../sandbox/trust-bundle.js';
import { Sandbox, type SandboxOptions } from '../sandbox/sandbox.js';
import type { State } from '../sandbox/state.js';
import { BudgetRecords } from '../store/budget-records.js';
import type { ChangeRecord } from '../store/sandbox-changes.js';

/** What one sandbox asks of its engine: the flags of `airlock run` / `airlock create`. */
export interface SandboxSpec extends Pick<
  SandboxOptions,
  'name' | 'user' | 'env' | 'limits' | 'mounts' | 'signal'
> {
  /** credentials by `--cred` form: `NAME`, `NAME=env:VAR`, `NAME=file:PATH` (added to the config's) */
  credentials?: readonly string[];
  /**
   * credentials whose real value the caller already holds, by variable name. Nothing is read
   * from the engine's environment or files for them (the daemon API uses this).
   */
  secrets?: Readonly<Record<string, string>>;
  /** `--profile` names */
  profiles?: readonly string[];
  /** `--allow-endpoint service:METHOD:/path` values */
  allowEndpoints?: readonly string[];
  /** learn mode: endpoint rules not enforced, everything recorded for `airlock learn` (omitted = false) */
  learn?: boolean;
  /** which CONNECTs the proxy terminates: `credentials` or `all` (`--intercept`; omitted = the config's `intercept`) */
  intercept?: InterceptScope;
  /** `--budget [CREDENTIAL:]KIND=AMOUNT[/WINDOW]` values (added to the config's `budgets`) */
  budgets?: readonly string[];
  /** credentials of the config not to grant (a live revoke; omitted = none) */
  revoked?: readonly string[];
  /** told of each request or connection the proxy refuses, as it happens */
  onRefusal?: RefusalListener;
}

/**
 * A live change to a running sandbox. Attached credentials serve the guest's new commands
 * (their placeholders and base URLs are in the environment of commands started after it);
 * `budgets` and `allowEndpoints`, when given, replace the sandbox's own (the config's stay).
 */
export interface SandboxChange {
  /** `--cred` forms to attach: `NAME`, `NAME=env:VAR` (a `file:` source is refused: the guest's view is fixed) */
  credentials?: readonly string[];
  /** credentials to attach whose real value the caller holds, by variable name */
  secrets?: Readonly<Record<string, string>>;
  /** credential variable names to take away */
  revoke?: readonly string[];
  budgets?: readonly string[];
  allowEndpoints?: readonly string[];
}

/** A change checked against the config, ready to take effect once it is on record. */
export interface PlannedChange {
  records: Omit<ChangeRecord, 'sandbox' | 'at'>[];
  apply(): void;
}

/** What the engine shares with each of its sandboxes. */
export interface EngineResources {
  loaded: LoadedConfig;
  state: State;
  audit: AuditService;
  /** where `env:` sources are read and which variables guests may inherit */
  invokingEnv: NodeJS.ProcessEnv;
  logStream: NodeJS.WritableStream;
  upstreamCa: string[];
  hostCa: Record<string, string[]>;
}

/** A sandbox with its proxy listening on its gateway, auditing into the engine's log. */
export interface EnforcedSandbox {
  sandbox: Sandbox;
  policy: SandboxPolicy;
  /** `http://<gateway>:<port>` */
  proxyUrl: string;
  /** lines to show the user before the guest starts (e.g. the `open` profile warning) */
  warnings: readonly string[];
  /** its token and cost budgets, and what its LLM calls spent */
  budget: BudgetLedger;
  /** checks a live change (throws, changing nothing, when the config refuses it) */
  plan(change: SandboxChange): PlannedChange;
  /** stops the proxy, then removes the sandbox; the engine's audit log stays open */
  close(exitStatus: number | null): Promise<void>;
  /** readies the proxy for its first request (RunningProxy.warmUp) */
  warmUp(): void;
}

/** The requested credentials by name → source: the config's, then `--cred`, then held values. */
function credentialSources(spec: SandboxSpec, loaded: LoadedConfig): Map<string, SecretSource | string> {
  const sources = new Map<string, SecretSource | string>(Object.entries(loaded.config.credentials));
  for (const flag of spec.credentials ?? []) {
    const { name, source } = parseCredFlag(flag);
    sources.set(name, source);
  }
  for (const name of [...Object.keys(spec.secrets ?? {}), ...(spec.revoked ?? [])]) sources.delete(name);
  return sources;
}

/**
 * The sandbox's policy from names only: a bad profile, credential or endpoint is reported
 * before anything is built, and without root.
 */
export function sandboxPolicy(loaded: LoadedConfig, spec: SandboxSpec): SandboxPolicy {
  const { config, catalogue } = loaded;
  if (spec.name !== undefined && !SANDBOX_NAME.test(spec.name)) {
    throw new AirlockError('AIRLOCK_ERR_USAGE', `sandbox name "${spec.name}" ${SANDBOX_NAME_RULE}`);
  }
  const policy = createSandboxPolicy({
    catalogue,
    profiles: spec.profiles ?? [],
    customProfiles: config.profiles,
    credentials: [...credentialSources(spec, loaded).keys(), ...Object.keys(spec.secrets ?? {})],
    endpoints: config.endpoints,
    allowEndpoints: spec.allowEndpoints ?? [],
    learn: spec.learn ?? false,
  });
  assertCallerVariables(spec.env ?? {}, policy);
  return policy;
}

/** Refuses a caller's (`--env`) variable that airlock sets in the guest, naming it and why. */
export function assertCallerVariables(env: Readonly<Record<string, string>>, policy: SandboxPolicy): void {
  const granted = [...policy.services.values()].map((s) => s.service);
  for (const name of Object.keys(env)) {
    const reason = reservedVariable(name, granted, policy.catalogue.services);
    if (reason !== undefined) {
      throw new AirlockError(
        'AIRLOCK_ERR_ENV_RESERVED',
        `--env ${name}: airlock sets this variable (${reason})`,
        {
          hint: name.startsWith('AIRLOCK_')
            ? undefined
            : 'grant credentials with --cred; leave base URLs and proxies to airlock',
        },
      );
    }
  }
}

/**
 * The sandbox's budgets: the config's, then `--budget`'s. A budget that names a credential
 * the sandbox is not granted is refused (it could never apply).
 */
export function sandboxBudgets(loaded: LoadedConfig, spec: SandboxSpec): BudgetRule[] {
  const granted = new Set([...credentialSources(spec, loaded).keys(), ...Object.keys(spec.secrets ?? {})]);
  const rules = [
    ...loaded.config.budgets.map((b, i) => parseBudget(b, `budgets[${i}]`)),
    ...profileBudgets(loaded.config.profiles, spec.profiles ?? []),
    ...(spec.budgets ?? []).map((b) => parseBudget(b, '--budget')),
  ];
  for (const rule of rules) {
    if (rule.credential !== undefined && !granted.has(rule.credential)) {
      throw new AirlockError(
        'AIRLOCK_ERR_CONFIG',
        `budget ${rule.kind} for ${rule.credential}: the sandbox is not granted that credential`,
        { hint: `granted: ${[...granted].join(', ') || 'none'}` },
      );
    }
  }
  return rules;
}

/** The budgets of the config profiles a sandbox uses, and of the profiles they extend (each once). */
function profileBudgets(
  profiles: LoadedConfig['config']['profiles'],
  chosen: readonly string[],
): BudgetRule[] {
  const seen = new Set<string>();
  const rules: BudgetRule[] = [];
  const visit = (name: string) => {
    const profile = profiles[name];
    if (profile === undefined || seen.has(name)) return; // a preset, or already counted
    seen.add(name);
    rules.push(...profile.budgets.map((b, i) => parseBudget(b, `profiles.${name}.budgets[${i}]`)));
    profile.extends.forEach(visit);
  };
  chosen.forEach(visit);
  return rules;
}

export function readCaFiles(paths: readonly string[]): string[] {
  return paths.map((path) => {
    try {
      return readFileSync(path, 'utf8');
    } catch (cause) {
      throw new AirlockError('AIRLOCK_ERR_CONFIG', `upstreamCa: cannot read ${path}`, { cause });
    }
  });
}

/**
 * Builds the enforced unit: policy (profiles + endpoint rules + credentials) → sandbox →
 * proxy on the sandbox's gateway (injecting credentials, auditing every request) → the
 * guest's placeholders and base URLs. Fails closed: on any error everything made is removed.
 */
export async function createEnforcedSandbox(
  resources: EngineResources,
  spec: SandboxSpec,
): Promise<EnforcedSandbox> {
  const { loaded, state, audit, invokingEnv } = resources;
  const { config, catalogue } = loaded;
  const policy = sandboxPolicy(loaded, spec);
  const budgetRules = sandboxBudgets(loaded, spec);
  // Only names and origins leave here in messages; the values stay in this process's memory.
  const secrets: ResolvedSecret[] = [
    ...[...credentialSources(spec, loaded)].map(([name, source]) =>
      resolveSecretSource(name, source, invokingEnv),
    ),
    ...Object.entries(spec.secrets ?? {}).map(([name, value]) => ({ name, origin: 'caller', value })),
  ];
  let sandbox: Sandbox | undefined;
  let proxy: RunningProxy | undefined;
  // A CA only where a CONNECT can be intercepted (a granted credential's host, or --intercept
  // all): made while the kernel side is built, and a sandbox without either pays nothing for it
  const interceptScope = spec.intercept ?? config.intercept;
  const ca = policy.credentialHosts.size > 0 || interceptScope === 'all' ? createSandboxCa() : undefined;
  ca?.catch(() => undefined); // awaited below; a failed build must not leave it unhandled
  try {
    sandbox = await Sandbox.create({
      ...spec,
      invokingEnv,
      state,
      collectGarbage: false, // the engine did when it opened
      pool: config.pool,
      proxyPort: config.proxyPort,
      profiles: [...policy.profiles],
      credentials: secrets.map((s) => s.name),
      limits: spec.limits ?? resolveLimits(config.limits, {}),
      // where the real keys and their configuration live is never part of a guest's view
      hidden: [
        ...(loaded.path === undefined ? [] : [loaded.path]),
        ...secrets.filter((s) => s.origin.startsWith('file:')).map((s) => s.origin.slice('file:'.length)),
      ],
    });
    let { services, credentials } = grant(catalogue, policy, secrets, {});
    // a named sandbox carries on with what the last sandbox of that name used (rows settled so
    // far are committed first); a new id has nothing to carry on, so nothing to wait for
    const owner = sandbox.record.name ?? sandbox.id;
    if (sandbox.record.name !== null) await audit.flush();
    const budget = createBudgetLedger({
      owner,
      sandboxId: sandbox.id,
      rules: [...budgetRules, ...endpointRates(policy)],
      prices: priceTable(config.prices),
      saved: new BudgetRecords(state.db).load(owner),
      persist: (rows) => audit.saveBudgets(rows),
    });
    // the forward proxy serves the profiles' hosts (HTTP_PROXY/HTTPS_PROXY in the guest)
    // (with no profile the only hosts are the credentials' own, which go through base URLs)
    // (a credential's host is reached through it too: airlock intercepts those CONNECTs)
    const forwardOn =
      policy.open ||
      policy.credentialHosts.size > 0 ||
      policy.hosts.some((h) => h.kind !== 'exact' || !policy.credentialHosts.has(h.host));
    const sandboxCa = await ca;
    proxy = await startProxy(
      {
        sandboxId: sandbox.id,
        policy,
        services,
        credentials,
        audit,
        resolve: config.resolve,
        upstreamCa: resources.upstreamCa,
        hostCa: resources.hostCa,
        timeouts: {
          connect: config.timeouts.connectMs,
          headers: config.timeouts.headersMs,
          bodyIdle: config.timeouts.bodyIdleMs,
        },
        limits: config.limits,
        egress: { pool: config.pool, allowTestRanges: config.egress.allowTestRanges },
        logger: { level: logLevel(invokingEnv), stream: resources.logStream },
        onRefusal: spec.onRefusal,
        budget,
        ...(sandboxCa ? { intercept: { ca: sandboxCa, scope: interceptScope } } : {}),
        usageTap: (service, headers, onEvent) =>
          service.usageFormat
            ? createUsageTap(service.usageFormat, first(headers['content-type']), {
                contentEncoding: first(headers['content-encoding']),
                onEvent,
              })
            : undefined,
      },
      { host: sandbox.gateway, port: sandbox.proxyPort },
    );
    spec.signal?.throwIfAborted();
    const proxyUrl = `http://${sandbox.gateway}:${sandbox.proxyPort}`;
    // its guests trust the system CAs plus this sandbox's CA (certificates only, never its key)
    if (sandboxCa) sandbox.setGuestFiles(trustFiles(sandboxCa.certPem));
    sandbox.setGuestVariables({
      ...guestVariables(services, credentials, proxyUrl),
      ...(forwardOn ? proxyVariables(proxyUrl) : {}),
      ...(sandboxCa ? trustVariables(spec.env) : {}),
      AIRLOCK_SANDBOX_ID: sandbox.id,
      AIRLOCK_PROXY_URL: proxyUrl,
    });
    const opened = { sandbox, proxy };
    let current = { spec, policy, secrets };
    return {
      sandbox,
      get policy() {
        return current.policy;
      },
      proxyUrl,
      warnings: policy.warnings,
      budget,
      plan(change) {
        const next = changedSpec(current.spec, change);
        const nextPolicy = sandboxPolicy(loaded, next);
        const rules = sandboxBudgets(loaded, next);
        const granted = new Set([...nextPolicy.services.values()].map((s) => s.credential));
        const held = new Map(current.secrets.map((s) => [s.name, s]));
        const nextSecrets: ResolvedSecret[] = [];
        for (const [name, source] of credentialSources(next, loaded)) {
          const kept = held.get(name);
          if (kept && !change.credentials?.some((c) => parseCredFlag(c).name === name))
            nextSecrets.push(kept);
          else nextSecrets.push(resolveLiveSource(name, source, invokingEnv));
        }
        for (const [name, value] of Object.entries(next.secrets ?? {})) {
          nextSecrets.push(
            held.get(name)?.value === value ? held.get(name)! : { name, origin: 'caller', value },
          );
        }
        const attached = nextSecrets.filter((s) => held.get(s.name) !== s).map((s) => s.name);
        const revoked = current.secrets.filter((s) => !granted.has(s.name)).map((s) => s.name);
        const records: PlannedChange['records'] = [
          ...(attached.length > 0 ? [{ kind: 'attach' as const, detail: attached }] : []),
          ...(revoked.length > 0 ? [{ kind: 'revoke' as const, detail: revoked }] : []),
          ...(change.budgets ? [{ kind: 'budgets' as const, detail: [...change.budgets] }] : []),
          ...(change.allowEndpoints
            ? [{ kind: 'endpoints' as const, detail: [...change.allowEndpoints] }]
            : []),
        ];
        return {
          records,
          apply() {
            ({ services, credentials } = grant(catalogue, nextPolicy, nextSecrets, credentials));
            opened.proxy.update({ policy: nextPolicy, services, credentials });
            budget.setRules(
              [...rules, ...endpointRates(nextPolicy)],
              new BudgetRecords(state.db).load(owner),
            );
            opened.sandbox.setGuestVariables(guestVariables(services, credentials, proxyUrl));
            current = { spec: next, policy: nextPolicy, secrets: nextSecrets };
          },
        };
      },
      warmUp: () => opened.proxy.warmUp(),
      async close(exitStatus) {
        try {
          await opened.proxy.close();
        } finally {
          await opened.sandbox.close(exitStatus);
        }
      },
    };
  } catch (error) {
    await proxy?.close().catch(() => undefined);
    await sandbox?.close(null).catch(() => undefined);
    throw error;
  }
}

/**
 * The proxy's services and credentials for `secrets`. A credential the sandbox already held
 * keeps its placeholder (its guests have it); a new one gets a fresh one.
 */
function grant(
  catalogue: LoadedConfig['catalogue'],
  policy: SandboxPolicy,
  secrets: readonly ResolvedSecret[],
  held: Readonly<Record<string, ServiceCredential>>,
): { services: Service[]; credentials: Record<string, ServiceCredential> } {
  const credentials: Record<string, ServiceCredential> = {};
  const services: Service[] = [];
  for (const secret of secrets) {
    const service = catalogue.byEnvVar(secret.name)!; // the policy checked it exists
    const before = held[service.name];
    const credential: ServiceCredential = {
      envVar: secret.name,
      secret: secret.value,
      placeholder: before?.envVar === secret.name ? before.placeholder : makePlaceholder(service),
    };
    // companions the policy granted (github-git) send the same credential, placeholder included
    const companions = catalogue.companions(service.name).filter((s) => policy.services.has(s.name));
    for (const s of [service, ...companions]) {
      services.push(s);
      credentials[s.name] = credential;
    }
  }
  return { services, credentials };
}

/** The spec after a live change: attached credentials added, revoked ones gone, lists replaced. */
function changedSpec(spec: SandboxSpec, change: SandboxChange): SandboxSpec {
  const revoke = new Set(change.revoke ?? []);
  const attach = new Set([
    ...(change.credentials ?? []).map((c) => parseCredFlag(c).name),
    ...Object.keys(change.secrets ?? {}),
  ]);
  for (const name of revoke) {
    if (attach.has(name)) {
      throw new AirlockError('AIRLOCK_ERR_USAGE', `credential ${name} is both attached and revoked`);
    }
  }
  const keep = (name: string) => !revoke.has(name) && !attach.has(name);
  return {
    ...spec,
    credentials: [
      ...(spec.credentials ?? []).filter((c) => keep(parseCredFlag(c).name)),
      ...(change.credentials ?? []),
    ],
    secrets: {
      ...Object.fromEntries(Object.entries(spec.secrets ?? {}).filter(([name]) => keep(name))),
      ...change.secrets,
    },
    revoked: [...(spec.revoked ?? []).filter((name) => !attach.has(name)), ...revoke],
    budgets: change.budgets ?? spec.budgets,
    allowEndpoints: change.allowEndpoints ?? spec.allowEndpoints,
  };
}

/** A credential attached to a running sandbox: from the environment only (a file could be in the guest's view). */
function resolveLiveSource(
  name: string,
  source: SecretSource | string,
  env: NodeJS.ProcessEnv,
): ResolvedSecret {
  const parsed = typeof source === 'string' ? parseSecretSource(source, `credential ${name}`) : source;
  if (parsed.kind === 'file') {
    throw new AirlockError(
      'AIRLOCK_ERR_SECRET_SOURCE',
      `credential ${name}: a file source cannot be attached to a running sandbox (its view of the file system is fixed)`,
      { hint: 'read the file yourself and pass the value (airlock update does), or use env:VAR' },
    );
  }
  return resolveSecretSource(name, source, env);
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
