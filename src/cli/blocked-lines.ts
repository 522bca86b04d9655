import { errorType } from '../errors.js';
import type { RefusalListener } from '../proxy/index.js';
import type { RequestSummary } from '../audit/query.js';

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
export function summaryLine(summary: RequestSummary, sandbox: string): string {
  if (summary.requests === 0) return '';
  const tokens = summary.inputTokens + summary.outputTokens;
  const parts = [
    `${summary.requests} request${summary.requests === 1 ? '' : 's'}`,
    `${summary.denied} denied`,
    ...(tokens > 0 ? [`${tokens.toLocaleString('en-US')} tokens`] : []),
  ];
  return `airlock: ${parts.join(', ')} (airlock audit --sandbox ${sandbox})\n`;
}
