import { BUILTIN_SERVICES } from '../catalogue/builtin.js';
import { createCatalogue, type Catalogue } from '../catalogue/catalogue.js';
import type { Service } from '../catalogue/service.js';
import { normalizeHost, validateEndpoints, validateProfiles, type PolicyIssue } from '../policy/index.js';
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
  const owners = new Map<string, string>();
  const claim = (key: string, owner: string, path: (string | number)[], what: string) => {
    const prev = owners.get(key);
    if (prev !== undefined && prev !== owner)
      issues.push({ path, message: `${what} already belongs to service "${prev}"` });
    else owners.set(key, owner);
  };
  const claimService = (s: Service, base: (string | number)[] | null) => {
    const at = (...rest: (string | number)[]) => (base ? [...base, ...rest] : []);
    claim(`name:${s.name}`, s.name, at('name'), `name "${s.name}"`);
    [s.envVar, ...s.aliases].forEach((v, i) =>
      claim(`var:${v}`, s.name, i === 0 ? at('envVar') : at('aliases', i - 1), `variable ${v}`),
    );
    s.hosts.forEach((h) => claim(`host:${h}`, s.name, at('upstream'), `host ${h}`));
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
  if (serviceIssues.length > 0) return { issues };
  const catalogue = createCatalogue(config.services.map(toService));
  for (const name of Object.keys(config.credentials)) {
    if (!catalogue.byEnvVar(name)) {
      issues.push({
        path: ['credentials', name],
        message: `no service takes ${name} (see airlock services)`,
      });
    }
  }
  issues.push(...validateProfiles(config.profiles, catalogue));
  issues.push(...validateEndpoints(config.endpoints, catalogue, ['endpoints']));
  return { issues, catalogue };
}
