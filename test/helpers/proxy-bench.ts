import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { BUILTIN_SERVICES } from '../../src/catalogue/builtin.js';
import type { Service } from '../../src/catalogue/service.js';
import { guestVariables, makePlaceholder, startProxy, type RunningProxy } from '../../src/proxy/index.js';
import type { ProxyDeps, ServiceCredential } from '../../src/proxy/types.js';
import { createFakeAudit, type FakeAudit } from './fake-audit.js';
import { createFakeUpstream, type FakeUpstream, type UpstreamHandler } from './fake-upstream.js';
import { grantAll } from './policy.js';
import { createTestCa, type TestCa } from './test-ca.js';

type After = { after(fn: () => unknown): void };

export function builtin(name: string): Service {
  const service = BUILTIN_SERVICES.find((s) => s.name === name);
  if (!service) throw new Error(`no builtin service ${name}`);
  return service;
}

/** The service with its upstream moved to `port` (the fake upstream cannot listen on 443). */
export function onPort(service: Service, port: number): Service {
  const url = new URL(service.upstream);
  url.port = String(port);
  return { ...service, upstream: url.toString().replace(/\/$/, '') };
}

/** A unique canary secret per call: if it shows up anywhere it should not, a test names it. */
export function canarySecret(label: string): string {
  return `real-${label}-CANARY-${randomBytes(12).toString('hex')}`;
}

/** Real credentials (canaries) and fresh placeholders for services. */
export function makeCredentials(
  services: readonly Service[],
  secrets: Readonly<Record<string, string>> = {},
): Record<string, ServiceCredential> {
  return Object.fromEntries(
    services.map((s) => [
      s.name,
      { envVar: s.envVar, secret: secrets[s.name] ?? canarySecret(s.name), placeholder: makePlaceholder(s) },
    ]),
  );
}

/** `resolve` for every host of `services`, to the fake upstream on 127.0.0.1. */
export function resolveAll(services: readonly Service[]): Record<string, string> {
  return Object.fromEntries(services.flatMap((s) => s.hosts.map((h) => [h, '127.0.0.1'])));
}

/** Captures the proxy's log lines in memory. */
export function captureLogs(): { stream: PassThrough; text(): string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

export interface BenchOptions {
  /** builtin service names or custom services (omitted = the seed's five) */
  services?: (string | Service)[];
  handler?: UpstreamHandler;
  /** reuse a CA and upstream (two sandboxes against one fake internet) */
  ca?: TestCa;
  upstream?: FakeUpstream;
  /** extra CAs the proxy trusts (omitted = the bench CA) */
  upstreamCa?: string[];
  sandboxId?: string;
  /** more `resolve` entries (other origins a test sets up; nothing may fall through to DNS) */
  extraResolve?: Record<string, string>;
  /** real secrets by service name (omitted = a fresh canary each) */
  secrets?: Record<string, string>;
  /** overrides; `policy` omitted = a credential for every service, no profile, no rules */
  deps?: Partial<ProxyDeps>;
}

export interface Bench {
  ca: TestCa;
  upstream: FakeUpstream;
  proxy: RunningProxy;
  /** `http://127.0.0.1:<port>` */
  baseUrl: string;
  services: Service[];
  credentials: Record<string, ServiceCredential>;
  /** what `guestVariables` gives the guest */
  env: Record<string, string>;
  audit: FakeAudit;
  logs(): string;
  /** every real secret of this bench */
  secrets: string[];
  /** the credential of a service (throws when there is none) */
  cred(service: string): ServiceCredential;
}

export const SEED_SERVICES = ['openai', 'anthropic', 'google', 'github', 'huggingface'];

/** A CA, a fake upstream for the services' real hostnames, and a proxy on 127.0.0.1 reaching it via `resolve`. */
export async function startBench(t: After, options: BenchOptions = {}): Promise<Bench> {
  const ca = options.ca ?? createTestCa(t);
  const catalogue = (options.services ?? SEED_SERVICES).map((s) => (typeof s === 'string' ? builtin(s) : s));
  const upstream =
    options.upstream ??
    (await createFakeUpstream({
      ca,
      hostnames: catalogue.flatMap((s) => s.hosts),
      handler: options.handler,
      t,
    }));
  const services = catalogue.map((s) => onPort(s, upstream.port));
  const credentials = makeCredentials(services, options.secrets);
  const audit = createFakeAudit();
  const logs = captureLogs();
  const proxy = await startProxy(
    {
      sandboxId: options.sandboxId ?? `sbx-${randomBytes(3).toString('hex')}`,
      policy: grantAll(services),
      services,
      credentials,
      audit: audit.sink,
      resolve: { ...resolveAll(services), ...options.extraResolve },
      upstreamCa: options.upstreamCa ?? [ca.caPem],
      logger: { level: 'debug', stream: logs.stream },
      ...options.deps,
    },
    { host: '127.0.0.1', port: 0 },
  );
  t.after(() => proxy.close());
  const baseUrl = `http://127.0.0.1:${proxy.address.port}`;
  return {
    ca,
    upstream,
    proxy,
    baseUrl,
    services,
    credentials,
    env: guestVariables(services, credentials, baseUrl),
    audit,
    logs: () => logs.text(),
    secrets: Object.values(credentials).map((c) => c.secret),
    cred(service) {
      const c = credentials[service];
      if (!c) throw new Error(`no credential for ${service}`);
      return c;
    },
  };
}
