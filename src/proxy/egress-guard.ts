import { lookup as dnsLookup } from 'node:dns/promises';
import { connect, isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Service } from '../catalogue/service.js';
import type { ErrorCode } from '../errors.js';
import type { ForwardTarget } from './forward-target.js';
import type { ForwardProxyDeps, ServiceCredential } from './types.js';

export type EgressDecision =
  { ok: true; ip: string } | { ok: false; status: number; code: ErrorCode; message: string };

export interface EgressGuardOptions {
  forward: ForwardProxyDeps | undefined;
  /** admin-pinned hostname → IP; pinned hosts skip the address check (the admin chose them) */
  resolve: Readonly<Record<string, string>>;
  services: readonly Service[];
  credentials: Readonly<Record<string, ServiceCredential>>;
}

const deny = (status: number, code: ErrorCode, message: string): EgressDecision => ({
  ok: false,
  status,
  code,
  message,
});

/**
 * Decides whether the forward proxy may connect to a target, and to which address: credential
 * hosts go through their base URL only (injection cannot happen inside TLS), the profiles
 * must allow the host, and the name is resolved here, once, with every address checked, so
 * the address dialled is the address checked (no DNS rebinding between check and connect).
 */
export function createEgressGuard(
  options: EgressGuardOptions,
): (target: ForwardTarget) => Promise<EgressDecision> {
  const { forward, resolve } = options;
  const baseUrlOf = new Map<string, string>();
  for (const service of options.services) {
    if (!options.credentials[service.name]) continue;
    const variable = service.baseUrlVariables[0]?.name ?? `/proxy/${service.name}`;
    for (const host of service.hosts) baseUrlOf.set(host.toLowerCase(), variable);
  }
  const lookup =
    forward?.lookup?.bind(forward) ??
    (async (host: string) => (await dnsLookup(host, { all: true })).map((a) => a.address));

  return async function check(target) {
    if (!forward) {
      return deny(
        403,
        'AIRLOCK_ERR_PROXY_HOST_DENIED',
        'the forward proxy is off for this sandbox (no profile allows it)',
      );
    }
    const baseUrl = baseUrlOf.get(target.host);
    if (baseUrl) {
      return deny(
        403,
        'AIRLOCK_ERR_PROXY_USE_BASE_URL',
        `${target.host} holds a credential: call it through ${baseUrl} (the proxy cannot inject a key inside a tunnel)`,
      );
    }
    if (!forward.allowHost(target.host, target.port)) {
      return deny(
        403,
        'AIRLOCK_ERR_PROXY_HOST_DENIED',
        `${target.host}:${target.port} is not allowed by this sandbox's profiles`,
      );
    }
    const pinned = Object.hasOwn(resolve, target.host) ? resolve[target.host] : undefined;
    if (pinned !== undefined) return { ok: true, ip: pinned };
    let addresses: string[];
    try {
      addresses = isIP(target.host) ? [target.host] : await lookup(target.host);
    } catch {
      return deny(502, 'AIRLOCK_ERR_PROXY_UPSTREAM', `${target.host} could not be resolved`);
    }
    if (addresses.length === 0)
      return deny(502, 'AIRLOCK_ERR_PROXY_UPSTREAM', `${target.host} has no address`);
    // one bad answer refuses the host: a resolver can return a public and a private address
    const bad = addresses.find((ip) => forward.isForbiddenAddress(ip));
    if (bad !== undefined) {
      return deny(
        403,
        'AIRLOCK_ERR_PROXY_FORBIDDEN_ADDRESS',
        `${target.host} resolves to ${bad}, which the proxy never connects to`,
      );
    }
    return { ok: true, ip: addresses[0]! };
  };
}

/** Connects to a checked address with the injected dialer, or TCP; rejects after `timeoutMs`. */
export function dialChecked(
  forward: ForwardProxyDeps,
  ip: string,
  port: number,
  timeoutMs: number,
): Promise<Duplex> {
  const dial =
    forward.dial?.bind(forward) ??
    ((host: string, p: number) =>
      new Promise<Duplex>((resolve, reject) => {
        const socket = connect({ host, port: p });
        socket.once('connect', () => resolve(socket));
        socket.once('error', reject);
      }));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(Object.assign(new Error('connect timeout'), { code: 'UND_ERR_CONNECT_TIMEOUT' })),
      timeoutMs,
    );
    dial(ip, port).then(
      (socket) => {
        clearTimeout(timer);
        resolve(socket);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}
