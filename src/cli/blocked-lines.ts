import { errorType } from '../errors.js';
import type { RefusalListener } from '../proxy/index.js';
import type { RequestSummary } from '../audit/query.js';
import type { BudgetView, Spend } from '../budget/index.js';

/** Lines per second `airlock run` prints about refused requests before it only counts them. */
const LINES_PER_SECOND = 5;

export interface BlockedLines {
  listener: RefusalListener;
  /** prints how many refusals were counted but not shown */
  close(): void;
}

/**
 * One stderr line per refused request or connection, as it happens, so a person sees what the
 * guest's tool only sees as a status code: `airlock: blocked GET api.openai.com/v1/models — …`.
 * Past a few lines a second the rest are counted and reported once.
 */
/** `sandbox` names the sandbox in the hint (its name, or its id once known). */
export function blockedLines(
  stderr: NodeJS.WritableStream,
  sandbox: () => string,
  clock: () => number = Date.now,
): BlockedLines {
  let windowStart = 0;
  let shown = 0;
  let hidden = 0;
  const reportHidden = () => {
    if (hidden === 0) return;
    stderr.write(`airlock: … ${hidden} more blocked (airlock audit --sandbox ${sandbox()})\n`);
    hidden = 0;
  };
  return {
    listener(refusal) {
      const now = clock();
      if (now - windowStart >= 1000) {
        windowStart = now;
        shown = 0;
        reportHidden();
      }
      if (++shown > LINES_PER_SECOND) {
        hidden++;
        return;
      }
      const target = `${refusal.host}${refusal.path}` || '(no target)';
      stderr.write(
        `airlock: blocked ${refusal.method} ${target} — ${refusal.message} [${errorType(refusal.code)}]\n`,
      );
    },
    close: reportHidden,
  };
}

/** The line `airlock run` ends with when the guest used the proxy; nothing when it did not. */
export function summaryLine(
  summary: RequestSummary,
  sandbox: string,
  budget: { budgets: readonly BudgetView[]; spend: Spend } = { budgets: [], spend: NO_SPEND },
): string {
  if (summary.requests === 0) return '';
  const tokens = summary.inputTokens + summary.outputTokens;
  const parts = [
    `${summary.requests} request${summary.requests === 1 ? '' : 's'}`,
    `${summary.denied} denied`,
    ...(tokens > 0 ? [`${tokens.toLocaleString('en-US')} tokens`] : []),
    ...(budget.spend.usd > 0 ? [`est. ${formatUsd(budget.spend.usd)}`] : []),
  ];
  const budgets = budget.budgets.map(
    (b) => `${b.budget}: ${amount(b, b.used)} of ${amount(b, b.limit)} used`,
  );
  const tail = budgets.length > 0 ? `; budget ${budgets.join(', ')}` : '';
  return `airlock: ${parts.join(', ')}${tail} (airlock audit --sandbox ${sandbox})\n`;
}

const NO_SPEND: Spend = { inputTokens: 0, outputTokens: 0, usd: 0 };

/** `$0.004125`, `$12.35`: cents once it is dollars, millionths below (small runs cost little). */
export function formatUsd(usd: number): string {
  return `$${usd >= 1 ? usd.toFixed(2) : usd.toFixed(6)}`;
}

function amount(b: BudgetView, n: number): string {
  return b.kind === 'usd' ? formatUsd(n) : Math.round(n).toLocaleString('en-US');
}
