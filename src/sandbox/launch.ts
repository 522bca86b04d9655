import { readFileSync } from 'node:fs';
import { createAuditWriter, type AuditWriter } from '../audit/writer.js';
import { createUsageTap } from '../audit/usage.js';
import type { Service } from '../catalogue/service.js';
import { parseCredFlag, resolveSecretSource, type LoadedConfig, type SecretSource } from '../config/index.js';
import { ENV } from '../config/env-vars.js';
import { resolveLimits } from '../config/limits.js';
import { parseConfig } from '../config/load-config.js';
import { AirlockError } from '../errors.js';
import { createSandboxPolicy, type SandboxPolicy } from '../policy/index.js';
import {
  guestVariables,
  makePlaceholder,
  startProxy,
  proxyVariables,
  type RunningProxy,
  type ServiceCredential,
} from '../proxy/index.js';
import { Sandbox, type SandboxOptions } from './sandbox.js';
import { assertRoot } from './privileges.js';
import { openState, type State } from './state.js';

/** What `airlock run` (or a library user) asks for. */
export interface LaunchOptions extends Pick<
  SandboxOptions,
  'name' | 'user' | 'env' | 'invokingEnv' | 'home' | 'limits' | 'mounts' | 'signal'
> {
  /** the loaded config file (omitted = every default) */
  config?: LoadedConfig;
  /** `--cred` values: `NAME`, `NAME=env:VAR`, `NAME=file:PATH` (added to the config's) */
  credentials?: readonly string[];
  /** `--profile` names */
  profiles?: readonly string[];
  /** `--allow-endpoint service:METHOD:/path` values */
  allowEndpoints?: readonly string[];
  /** where the proxy logs (omitted = stderr) */
  logStream?: NodeJS.WritableStream;
}

/** A sandbox with its proxy listening and its audit log open. */
export interface LaunchedSandbox {
  sandbox: Sandbox;
  policy: SandboxPolicy;
  /** `http://<gateway>:<port>` */
  proxyUrl: string;
  /** lines to show the user before the guest starts (e.g. the `open` profile warning) */
  warnings: readonly string[];
  /** stops the proxy, flushes the audit log, removes the sandbox */
  close(exitStatus: number | null): Promise<void>;
}

/** The requested credentials by name → source: the config's, then `--cred` (which overrides). */
function credentialSources(options: LaunchOptions, loaded: LoadedConfig): Map<string, SecretSource | string> {
  const sources = new Map<string, SecretSource | string>(Object.entries(loaded.config.credentials));
  for (const flag of options.credentials ?? []) {
    const { name, source } = parseCredFlag(flag);
    sources.set(name, source);
  }
  return sources;
}

function readCaFiles(paths: readonly string[]): string[] {
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
export async function launchSandbox(options: LaunchOptions = {}): Promise<LaunchedSandbox> {
  const env = options.invokingEnv ?? process.env;
  const loaded = options.config ?? parseConfig({});
  const { config, catalogue } = loaded;
  const sources = credentialSources(options, loaded);
  // Policy first (names only): a bad flag is reported before anything else, even without root.
  const policy = createSandboxPolicy({
    catalogue,
    profiles: options.profiles ?? [],
    customProfiles: config.profiles,
    credentials: [...sources.keys()],
    endpoints: config.endpoints,
    allowEndpoints: options.allowEndpoints ?? [],
  });
  assertRoot('creating a sandbox');
  // Only names and origins leave here in messages; the values stay in this process's memory.
  const secrets = [...sources].map(([name, source]) => resolveSecretSource(name, source, env));
  const upstreamCa = readCaFiles(config.upstreamCa);
  const hostCa = Object.fromEntries(
    catalogue.services.flatMap((s) => (s.caFile ? s.hosts.map((h) => [h, readCaFiles([s.caFile!])]) : [])),
  );

  const state: State = openState(options.home, config.audit.synchronous);
  let audit: AuditWriter | undefined;
  let sandbox: Sandbox | undefined;
  let proxy: RunningProxy | undefined;
  try {
    audit = createAuditWriter({ db: state.db, maxBytes: config.audit.maxBytes });
    sandbox = await Sandbox.create({
      ...options,
      state,
      pool: config.pool,
      proxyPort: config.proxyPort,
      profiles: [...policy.profiles],
      credentials: secrets.map((s) => s.name),
      limits: options.limits ?? resolveLimits(config.limits, {}),
      // where the real keys and their configuration live is never part of a guest's view
      hidden: [
        ...(loaded.path === undefined ? [] : [loaded.path]),
        ...secrets.filter((s) => s.origin.startsWith('file:')).map((s) => s.origin.slice('file:'.length)),
      ],
    });
    // after the gc inside Sandbox.create has ended crashed sandboxes: their in-flight rows
    // become `unknown` now, while live sandboxes of other airlock processes keep theirs
    audit.recoverUnfinished();
    const credentials: Record<string, ServiceCredential> = {};
    const services: Service[] = [];
    for (const secret of secrets) {
      const service = catalogue.byEnvVar(secret.name)!; // the policy checked it exists
      services.push(service);
      credentials[service.name] = {
        envVar: secret.name,
        secret: secret.value,
        placeholder: makePlaceholder(service),
      };
    }
    // the forward proxy serves the profiles' hosts (HTTP_PROXY/HTTPS_PROXY in the guest)
    // (with no profile the only hosts are the credentials' own, which go through base URLs)
    const forwardOn =
      policy.open || policy.hosts.some((h) => h.kind !== 'exact' || !policy.credentialHosts.has(h.host));
    proxy = await startProxy(
      {
        sandboxId: sandbox.id,
        policy,
        services,
        credentials,
        audit,
        resolve: config.resolve,
        upstreamCa,
        hostCa,
        timeouts: {
          connect: config.timeouts.connectMs,
          headers: config.timeouts.headersMs,
          bodyIdle: config.timeouts.bodyIdleMs,
        },
        limits: config.limits,
        egress: { pool: config.pool, allowTestRanges: config.egress.allowTestRanges },
        logger: { level: env[ENV.logLevel] ?? 'warn', stream: options.logStream ?? process.stderr },
        usageTap: (service, headers) =>
          service.usageFormat
            ? createUsageTap(service.usageFormat, first(headers['content-type']), {
                contentEncoding: first(headers['content-encoding']),
              })
            : undefined,
      },
      { host: sandbox.gateway, port: sandbox.proxyPort },
    );
    options.signal?.throwIfAborted();
    const proxyUrl = `http://${sandbox.gateway}:${sandbox.proxyPort}`;
    sandbox.setGuestVariables({
      ...guestVariables(services, credentials, proxyUrl),
      ...(forwardOn ? proxyVariables(proxyUrl) : {}),
      AIRLOCK_SANDBOX_ID: sandbox.id,
      AIRLOCK_PROXY_URL: proxyUrl,
    });
    const opened = { sandbox, proxy, audit };
    return {
      sandbox,
      policy,
      proxyUrl,
      warnings: policy.warnings,
      async close(exitStatus) {
        try {
          await opened.proxy.close();
          await opened.audit.close();
        } finally {
          await opened.sandbox.close(exitStatus);
          state.close();
        }
      },
    };
  } catch (error) {
    await proxy?.close().catch(() => undefined);
    await audit?.close().catch(() => undefined);
    await sandbox?.close(null).catch(() => undefined);
    state.close();
    throw error;
  }
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
