import type { Catalogue } from '../catalogue/catalogue.js';
import { parseEndpointRule } from './endpoint-rules.js';
import { parseHostPattern } from './host.js';
import type { PolicyIssue } from './issues.js';
import { presetProfile, type ProfileDefinition } from './profiles.js';

/** Profile names: lowercase words joined by `-`. */
export const PROFILE_NAME = /^[a-z][a-z0-9-]{0,62}$/;

/** Checks endpoint rules keyed by service; `base` is the path of the map itself. */
export function validateEndpoints(
  endpoints: Readonly<Record<string, readonly string[]>>,
  catalogue: Catalogue,
  base: (string | number)[],
): PolicyIssue[] {
  const issues: PolicyIssue[] = [];
  for (const [service, rules] of Object.entries(endpoints)) {
    if (!catalogue.byName(service)) {
      issues.push({
        path: [...base, service],
        message: `unknown service "${service}" (see airlock services)`,
      });
      continue;
    }
    rules.forEach((text, i) => {
      const r = parseEndpointRule(text, '');
      if (!r.ok) issues.push({ path: [...base, service, i], message: r.reason });
    });
  }
  return issues;
}

/**
 * Checks custom profiles: names, host patterns (too broad ones refused), `extends` pointing
 * at known profiles without cycles, endpoint rules for known services.
 */
export function validateProfiles(
  profiles: Readonly<Record<string, ProfileDefinition>>,
  catalogue: Catalogue,
  base: (string | number)[] = ['profiles'],
): PolicyIssue[] {
  const issues: PolicyIssue[] = [];
  for (const [name, def] of Object.entries(profiles)) {
    const at = [...base, name];
    if (!PROFILE_NAME.test(name)) {
      issues.push({ path: at, message: `profile name "${name}" must be lowercase letters, digits and -` });
    }
    if (presetProfile(name))
      issues.push({ path: at, message: `"${name}" is a built-in profile; pick another name` });
    (def.hosts ?? []).forEach((h, i) => {
      const r = parseHostPattern(h);
      if (!r.ok) issues.push({ path: [...at, 'hosts', i], message: r.reason });
    });
    (def.extends ?? []).forEach((parent, i) => {
      if (!presetProfile(parent) && !Object.hasOwn(profiles, parent)) {
        issues.push({ path: [...at, 'extends', i], message: `unknown profile "${parent}"` });
      }
    });
    issues.push(...validateEndpoints(def.endpoints ?? {}, catalogue, [...at, 'endpoints']));
  }
  // cycles: walk each profile's extends chain
  for (const name of Object.keys(profiles)) {
    const seen: string[] = [];
    const visit = (n: string): boolean => {
      if (seen.includes(n)) return n === name;
      seen.push(n);
      return (profiles[n]?.extends ?? []).some((p) => Object.hasOwn(profiles, p) && visit(p));
    };
    if (visit(name))
      issues.push({ path: [...base, name, 'extends'], message: `profile "${name}" extends itself` });
  }
  return issues;
}
