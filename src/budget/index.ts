/** Token and cost budgets per sandbox: rules, prices, and the ledger the proxy reserves against. */
export { formatBudget, isBudget, parseBudget, type BudgetKind, type BudgetRule } from './budget-rule.js';
export {
  createBudgetLedger,
  DEFAULT_RESERVE_TOKENS,
  type BudgetAsk,
  type BudgetLedger,
  type BudgetLedgerOptions,
  type BudgetRow,
  type BudgetView,
  type Reservation,
  type Spend,
} from './ledger.js';
export { costOf, priceOf, priceTable, shippedPrices, type ModelPrice, type PriceTable } from './prices.js';
export { readAsk } from './request-ask.js';
