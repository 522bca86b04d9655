/** Token, cost and request budgets per sandbox: rules, endpoint rates, prices, and the ledger. */
export { formatBudget, isBudget, parseBudget, type BudgetKind, type BudgetRule } from './budget-rule.js';
export {
  createBudgetLedger,
  DEFAULT_RESERVE_TOKENS,
  type BudgetAsk,
  type BudgetRefusal,
  type BudgetScope,
  type BudgetLedger,
  type BudgetLedgerOptions,
  type BudgetRow,
  type BudgetView,
  type Reservation,
  type Spend,
} from './ledger.js';
export { endpointRates } from './endpoint-rates.js';
export { costOf, priceOf, priceTable, shippedPrices, type ModelPrice, type PriceTable } from './prices.js';
export { readAsk } from './request-ask.js';
