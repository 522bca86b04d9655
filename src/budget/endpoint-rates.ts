import type { SandboxPolicy } from '../policy/index.js';
import type { BudgetRule } from './budget-rule.js';

/**
 * The request rates of a sandbox's endpoint rules as budgets of kind `requests`, one per rated
 * rule, scoped to the rule's credential: they count in the same ledger as every other budget.
 */
export function endpointRates(policy: SandboxPolicy): BudgetRule[] {
  const rates: BudgetRule[] = [];
  for (const granted of policy.services.values()) {
    for (const rule of granted.rules) {
      if (!rule.rate) continue;
      rates.push({
        kind: 'requests',
        limit: rule.rate.limit,
        windowMs: rule.rate.windowMs,
        credential: granted.credential,
        endpoint: { service: granted.service.name, rule: rule.text },
      });
    }
  }
  return rates;
}
