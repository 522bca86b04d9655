import { AirlockError } from '../errors.js';
import { formatWindow, parseWindow } from '../policy/rate.js';

/** What a budget counts: LLM tokens (in, out, or both), their estimated cost in USD, or requests. */
export type BudgetKind = 'tokens' | 'input' | 'output' | 'usd' | 'requests';

/** One budget of a sandbox: at most `limit` of `kind` per window, for one credential or all. */
export interface BudgetRule {
  kind: BudgetKind;
  /** tokens, or USD for `usd` */
  limit: number;
  /** window length in ms (omitted = none: the budget never resets for this sandbox name) */
  windowMs?: number;
  /** the credential's variable name, e.g. OPENAI_API_KEY (omitted = every credential of the sandbox) */
  credential?: string;
  /**
   * for `requests` only: the endpoint rule whose matching requests count, e.g. service `openai`
   * and rule `POST /v1/chat/*` (omitted = every request through the credential's base URL)
   */
  endpoint?: { service: string; rule: string };
}

const KINDS: readonly BudgetKind[] = ['tokens', 'input', 'output', 'usd', 'requests'];
const SCALE: Record<string, number> = { '': 1, k: 1e3, m: 1e6 };

/**
 * Parses `[CREDENTIAL:]KIND=AMOUNT[/WINDOW]`: `tokens=200k/1h`, `usd=5/day`,
 * `OPENAI_API_KEY:output=1m/1d`, `input=50000`, `requests=600/1h`. Token and request amounts
 * take `k` and `m`; a window is a duration (`30m`, `1h`, `1d`) or `minute`, `hour`, `day`,
 * `week`. `what` names the source in errors (`--budget`, `budgets[0]`).
 */
export function parseBudget(value: string, what: string): BudgetRule {
  const bad = (why: string) =>
    new AirlockError('AIRLOCK_ERR_CONFIG', `${what} ${value}: ${why}`, {
      hint: 'expected [CREDENTIAL:]KIND=AMOUNT[/WINDOW], e.g. tokens=200k/1h, usd=5/day, OPENAI_API_KEY:output=50k, requests=600/1h',
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
  if (kind !== 'usd' && !Number.isInteger(limit))
    throw bad(`a ${kind === 'requests' ? 'request count' : 'token amount'} must be a whole number`);
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

/**
 * The budget as written: `OPENAI_API_KEY:tokens=200000/1h`; an endpoint rule's rate as its
 * flag form, `openai:POST:/v1/chat/* 60/1m`.
 */
export function formatBudget(rule: BudgetRule): string {
  const window = rule.windowMs === undefined ? '' : `/${formatWindow(rule.windowMs)}`;
  if (rule.endpoint) {
    const [method, glob] = rule.endpoint.rule.split(' ');
    return `${rule.endpoint.service}:${method}:${glob} ${rule.limit}${window}`;
  }
  const scope = rule.credential ? `${rule.credential}:` : '';
  return `${scope}${rule.kind}=${rule.limit}${window}`;
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
