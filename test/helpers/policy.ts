import { createCatalogue } from '../../src/catalogue/catalogue.js';
import {
  createSandboxPolicy,
  evaluate,
  type Decision,
  type SandboxPolicyOptions,
} from '../../src/policy/index.js';

/** A sandbox policy over the built-in catalogue. */
export function policyWith(options: Omit<SandboxPolicyOptions, 'catalogue'> = {}) {
  return createSandboxPolicy({ catalogue: createCatalogue(), ...options });
}

/** Shorthand: may this policy CONNECT to host:443? */
export function forwardAllowed(policy: ReturnType<typeof policyWith>, host: string, port = 443): boolean {
  return evaluate(policy, { kind: 'forward', host, port, method: 'CONNECT' }).allow;
}

export function denial(decision: Decision) {
  if (decision.allow) throw new Error('expected a denial, got allow');
  return decision;
}
