import { AirlockError } from '../errors.js';
import { BUILTIN_SERVICES } from './builtin.js';
import type { Service } from './service.js';

/** Lookups over the built-in services plus the config file's custom ones. Pure. */
export interface Catalogue {
  /** built-ins first, then custom services, in definition order */
  readonly services: readonly Service[];
  byName(name: string): Service | undefined;
  /** by the credential variable or one of its aliases (exact case) */
  byEnvVar(variable: string): Service | undefined;
  /** the service whose `hosts` include `host` (canonical lowercase, no trailing dot) */
  byHost(host: string): Service | undefined;
  /** the services that send `name`'s credential to upstreams of their own (`credentialOf`) */
  companions(name: string): Service[];
}

/** The variables a service claims: its own, or none when it sends another service's credential. */
export function claimedVariables(service: Service): string[] {
  return service.credentialOf === undefined ? [service.envVar, ...service.aliases] : [];
}

/** The upstream host of a service (the host its reverse route goes to). */
export function upstreamHost(service: Service): string {
  return new URL(service.upstream).hostname.toLowerCase();
}

/**
 * Builds the catalogue. A custom service may not reuse a built-in's name, variable or host:
 * that would silently send one service's credential to another's upstream.
 */
export function createCatalogue(customServices: readonly Service[] = []): Catalogue {
  const services = [...BUILTIN_SERVICES, ...customServices];
  const names = new Map<string, Service>();
  const vars = new Map<string, Service>();
  const hosts = new Map<string, Service>();
  const problems: string[] = [];
  const claim = (map: Map<string, Service>, key: string, s: Service, what: string) => {
    const owner = map.get(key);
    if (owner && owner !== s)
      problems.push(`service "${s.name}": ${what} "${key}" already belongs to "${owner.name}"`);
    else map.set(key, s);
  };
  for (const s of services) {
    claim(names, s.name, s, 'name');
    for (const v of claimedVariables(s)) claim(vars, v, s, 'variable');
    for (const h of s.hosts) claim(hosts, h.toLowerCase(), s, 'host');
  }
  for (const s of services) {
    if (s.credentialOf === undefined) continue;
    const owner = names.get(s.credentialOf);
    if (!owner || owner.credentialOf !== undefined || owner.envVar !== s.envVar)
      problems.push(
        `service "${s.name}": credentialOf "${s.credentialOf}" must name a service with its own credential ${s.envVar}`,
      );
  }
  if (problems.length > 0) throw new AirlockError('AIRLOCK_ERR_CONFIG', problems.join('\n'));
  return {
    services,
    byName: (name) => names.get(name),
    byEnvVar: (variable) => vars.get(variable),
    byHost: (host) => hosts.get(host),
    companions: (name) => services.filter((s) => s.credentialOf === name),
  };
}
