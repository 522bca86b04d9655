import { AirlockError } from '../errors.js';

/** What a budget counts: LLM tokens (in, out, or both) or their estimated cost in USD. */
export type BudgetKind = 'tokens' | 'input' | 'output' | 'usd';

/** One budget of a sandbox: at most `limit` of `kind` per window, for one credential or all. */
export interface BudgetRule {
  kind: BudgetKind;
  /** tokens, or USD for `usd` */
  limit: number;
  /** window length in ms (omitted = none: the budget never resets for this sandbox name) */
  windowMs?: number;
  /** the credential's variable name, e.g. OPENAI_API_KEY (omitted = every credential of the sandbox) */
  credential?: string;
}

const KINDS: readonly BudgetKind[] = ['tokens', 'input', 'output', 'usd'];
const WINDOW_WORDS: Record<string, number> = {
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
  week: 7 * 86_400_000,
};
const WINDOW_UNITS: Record<string, number> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
};
const SCALE: Record<string, number> = { '': 1, k: 1e3, m: 1e6 };

/**
 * Parses `[CREDENTIAL:]KIND=AMOUNT[/WINDOW]`: `tokens=200k/1h`, `usd=5/day`,
 * `OPENAI_API_KEY:output=1m/1d`, `input=50000`. Token amounts take `k` and `m`; a window is a
 * duration (`30m`, `1h`, `1d`) or `minute`, `hour`, `day`, `week`. `what` names the source in
 * errors (`--budget`, `budgets[0]`).
 */
export function parseBudget(value: string, what: string): BudgetRule {
  const bad = (why: string) =>
    new AirlockError('AIRLOCK_ERR_CONFIG', `${what} ${value}: ${why}`, {
      hint: 'expected [CREDENTIAL:]KIND=AMOUNT[/WINDOW], e.g. tokens=200k/1h, usd=5/day, OPENAI_API_KEY:output=50k',
    });
  const m = /^(?:([A-Za-z_][A-Za-z0-9_]*):)?([a-z]+)=([0-9]+(?:\.[0-9]+)?)([kKmM]?)(?:\/([0-9a-z]+))?$/.exec(
    value.trim(),
  );
  if (!m) throw bad('not a budget');
  const [, credential, kind, amount, scale, window] = m;
  if (!KINDS.includes(kind as BudgetKind)) throw bad(`unknown kind "${kind}" (${KINDS.join(', ')})`);
  if (kind === 'usd' && scale) throw bad('a USD amount takes no k or m');
  const limit = Number(amount) * SCALE[scale!.toLowerCase()]!;
  if (!(limit > 0) || !Number.isFinite(limit)) throw bad('the amount must be above 0');
  if (kind !== 'usd' && !Number.isInteger(limit)) throw bad('a token amount must be a whole number');
  const rule: BudgetRule = { kind: kind as BudgetKind, limit };
  if (window !== undefined)
    rule.windowMs =
      parseWindow(window) ?? throwIt(bad(`window "${window}": expected 30m, 1h, 1d, hour, day or week`));
  if (credential !== undefined) rule.credential = credential;
  return rule;
}

function throwIt(error: Error): never {
  throw error;
}

function parseWindow(window: string): number | undefined {
  if (WINDOW_WORDS[window] !== undefined) return WINDOW_WORDS[window];
  const m = /^([0-9]{1,6})([smhdw])$/.exec(window);
  const ms = m ? Number(m[1]) * WINDOW_UNITS[m[2]!]! : 0;
  return ms > 0 ? ms : undefined;
}

/** The budget as written: `OPENAI_API_KEY:tokens=200000/1h`. */
export function formatBudget(rule: BudgetRule): string {
  const scope = rule.credential ? `${rule.credential}:` : '';
  const window = rule.windowMs === undefined ? '' : `/${formatWindow(rule.windowMs)}`;
  return `${scope}${rule.kind}=${rule.limit}${window}`;
}

export function formatWindow(ms: number): string {
  for (const [unit, size] of Object.entries(WINDOW_UNITS).reverse()) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** Whether a string parses as a budget (for the config schema). */
export function isBudget(value: string): boolean {
  try {
    parseBudget(value, '');
    return true;
  } catch {
    return false;
  }
}
