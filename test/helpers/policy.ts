import { BUILTIN_SERVICES } from '../../src/catalogue/builtin.js';
import { createCatalogue } from '../../src/catalogue/catalogue.js';
import type { Service } from '../../src/catalogue/service.js';
import {
  createSandboxPolicy,
  evaluate,
  type Decision,
  type SandboxPolicy,
  type SandboxPolicyOptions,
} from '../../src/policy/index.js';

/** A sandbox policy over the built-in catalogue. */
export function policyWith(options: Omit<SandboxPolicyOptions, 'catalogue'> = {}) {
  return createSandboxPolicy({ catalogue: createCatalogue(), ...options });
}

/**
 * The policy a sandbox holding a credential for each of `services` gets (custom services join
 * the catalogue); `options` adds profiles and rules.
 */
export function grantAll(
  services: readonly Service[],
  options: Omit<SandboxPolicyOptions, 'catalogue' | 'credentials'> = {},
): SandboxPolicy {
  const builtin = new Set(BUILTIN_SERVICES.map((s) => s.name));
  return createSandboxPolicy({
    catalogue: createCatalogue(services.filter((s) => !builtin.has(s.name))),
    credentials: services.map((s) => s.envVar),
    ...options,
  });
}

/** Shorthand: may this policy CONNECT to host:port (IPv6 literals bracketed)? */
export function forwardAllowed(policy: SandboxPolicy, host: string, port = 443): boolean {
  return evaluate(policy, { kind: 'forward', method: 'CONNECT', target: `${host}:${port}` }).allow;
}

export function denial(decision: Decision) {
  if (decision.allow) throw new Error('expected a denial, got allow');
  return decision;
}
