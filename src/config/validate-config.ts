import { BUILTIN_SERVICES } from '../catalogue/builtin.js';
import { claimedVariables, createCatalogue, type Catalogue } from '../catalogue/catalogue.js';
import type { Service } from '../catalogue/service.js';
import { normalizeHost, validateEndpoints, validateProfiles, type PolicyIssue } from '../policy/index.js';
import { closestName } from '../did-you-mean.js';
import { parsePool } from '../net/address-pool.js';
import { toService } from './custom-service.js';
import type { AirlockConfig } from './schema.js';

/** The pool must parse exactly as the sandbox engine will parse it. */
function checkPool(pool: string): string | null {
  try {
    parsePool(pool);
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** Custom services that clash with built-ins or each other, by path. */
function checkServices(config: AirlockConfig): PolicyIssue[] {
  const issues: PolicyIssue[] = [];
  // owners are Service objects: a custom service named like a built-in is another owner
  const owners = new Map<string, Service>();
  const claim = (key: string, owner: Service, path: (string | number)[], what: string) => {
    const prev = owners.get(key);
    if (prev !== undefined && prev !== owner)
      issues.push({ path, message: `${what} already belongs to service "${prev.name}"` });
    else owners.set(key, owner);
  };
  const claimService = (s: Service, base: (string | number)[] | null) => {
    const at = (...rest: (string | number)[]) => (base ? [...base, ...rest] : []);
    claim(`name:${s.name}`, s, at('name'), `name "${s.name}"`);
    claimedVariables(s).forEach((v, i) =>
      claim(`var:${v}`, s, i === 0 ? at('envVar') : at('aliases', i - 1), `variable ${v}`),
    );
    s.hosts.forEach((h) => claim(`host:${h}`, s, at('upstream'), `host ${h}`));
  };
  for (const s of BUILTIN_SERVICES) claimService(s, null);
  config.services.forEach((c, i) => {
    c.extraHosts.forEach((h, j) => {
      const r = normalizeHost(h);
      if (!r.ok || r.ip) {
        issues.push({
          path: ['services', i, 'extraHosts', j],
          message: r.ok ? 'must be a host name' : r.reason,
        });
      }
    });
    claimService(toService(c), ['services', i]);
  });
  return issues;
}

/**
 * Checks across fields, each problem with its path: pool, custom services, credentials
 * naming known variables, profiles, endpoint rules and `resolve` host names. Returns the
 * catalogue (built-ins + custom services) when the services themselves are sound.
 */
export function validateConfig(config: AirlockConfig): { issues: PolicyIssue[]; catalogue?: Catalogue } {
  const issues: PolicyIssue[] = [];
  const pool = checkPool(config.pool);
  if (pool) issues.push({ path: ['pool'], message: pool });
  for (const host of Object.keys(config.resolve)) {
    const r = normalizeHost(host);
    if (!r.ok || r.ip)
      issues.push({
        path: ['resolve', host],
        message: r.ok ? 'must be a host name, not an address' : r.reason,
      });
  }
  const serviceIssues = checkServices(config);
  issues.push(...serviceIssues);
  // the rest is checked against the sound services, so one clash does not hide other problems
  const clashing = new Set(serviceIssues.map((i) => i.path[1]));
  const catalogue = createCatalogue(config.services.filter((_, i) => !clashing.has(i)).map(toService));
  for (const name of Object.keys(config.credentials)) {
    if (!catalogue.byEnvVar(name)) {
      const close = closestName(
        name,
        catalogue.services.flatMap((s) => [s.envVar, ...s.aliases]),
      );
      issues.push({
        path: ['credentials', name],
        message: `no service takes ${name} (${close ? `did you mean ${close}? ` : ''}see airlock services)`,
      });
    }
  }
  issues.push(...validateProfiles(config.profiles, catalogue));
  issues.push(...validateEndpoints(config.endpoints, catalogue, ['endpoints']));
  return serviceIssues.length > 0 ? { issues } : { issues, catalogue };
}
