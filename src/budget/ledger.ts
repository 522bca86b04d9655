import type { LlmUsage } from '../audit/sink.js';
import type { BudgetRecord } from '../store/budget-records.js';
import { formatBudget, type BudgetKind, type BudgetRule } from './budget-rule.js';
import { priceOf, type ModelPrice, type PriceTable } from './prices.js';

/** Output tokens held for a call that does not say how many it may produce. */
export const DEFAULT_RESERVE_TOKENS = 4096;

/** A budget's state as stored (table `budgets`): a named sandbox made again keeps what it used. */
export type BudgetRow = BudgetRecord;

/** A budget as shown to people (`airlock ls`, the exit summary). */
export interface BudgetView {
  /** as written, e.g. `tokens=1000/1h` */
  budget: string;
  kind: BudgetKind;
  limit: number;
  used: number;
  /** held by calls in flight */
  reserved: number;
  /** ISO 8601, when the window starts afresh (omitted = no window) */
  resetsAt?: string;
}

/** What a call asks for, read from its request before it goes out. */
export interface BudgetAsk {
  model?: string | undefined;
  /** the request's max_tokens (or equivalent); omitted = DEFAULT_RESERVE_TOKENS or what remains */
  maxOutput?: number | undefined;
}

/** What a call is, for which budgets apply to it. */
export interface BudgetScope {
  /** an LLM call, which token and cost budgets apply to (omitted = true) */
  llm?: boolean;
  /** the endpoint rules with a request rate that the request matched, `METHOD /glob` (omitted = none) */
  rated?: readonly string[];
}

/** Why a call was refused, and when the budget that refused it starts afresh. */
export interface BudgetRefusal {
  reason: string;
  /** epoch ms when the refusing budget's window starts afresh (omitted = no window: it never does) */
  retryAt?: number;
}

/** Tokens and budget amounts one call holds until it settles. */
export interface Reservation {
  readonly credential: string;
  readonly model: string | undefined;
  /** tokens held */
  input: number;
  output: number;
  /** held per budget, same order as `budgets` */
  readonly held: number[];
  readonly budgets: readonly Tracked[];
}

interface Tracked {
  rule: BudgetRule;
  windowStart: number;
  used: number;
  reserved: number;
}

/** This sandbox's LLM spend so far (every call, budgeted or not). */
export interface Spend {
  inputTokens: number;
  outputTokens: number;
  /** estimated from the price table */
  usd: number;
}

export interface BudgetLedgerOptions {
  owner: string;
  sandboxId: string;
  rules: readonly BudgetRule[];
  prices: PriceTable;
  /** what earlier sandboxes of this owner used (rows of table `budgets`) */
  saved?: readonly BudgetRow[];
  /** stores changed rows (off the request path: the engine hands them to the audit thread) */
  persist?: (rows: BudgetRow[]) => void;
  /** clock in epoch ms (omitted = Date.now) */
  now?: () => number;
}

/** One sandbox's budgets: reservations before a call, settlement after it. */
export interface BudgetLedger {
  /** whether a budget applies to a call made with this credential */
  covers(credential: string, scope?: BudgetScope): boolean;
  /** holds what the call may use (one request for a rate); a refusal when a budget cannot cover it */
  reserve(credential: string, ask: BudgetAsk, scope?: BudgetScope): Reservation | BudgetRefusal;
  /** grows a reservation to `seen` tokens (a stream under way); false when a budget cannot cover it */
  extend(reservation: Reservation, seen: { input: number; output: number }): boolean;
  /** records what a call used and frees what it held (`reservation` omitted = an unbudgeted call) */
  settle(reservation: Reservation | undefined, usage: LlmUsage | undefined): void;
  spend(): Spend;
  view(): BudgetView[];
  /**
   * a live change: these rules from now on. A budget kept (same credential, kind and window)
   * keeps its count and takes the new limit; a new one starts from `saved`, else from zero.
   */
  setRules(rules: readonly BudgetRule[], saved?: readonly BudgetRow[]): void;
  /** the price table in use */
  readonly prices: PriceTable;
}

export function createBudgetLedger(options: BudgetLedgerOptions): BudgetLedger {
  const { owner, sandboxId, prices, persist } = options;
  const now = options.now ?? Date.now;
  const sameBudget = (
    a: BudgetRule,
    credential: string,
    kind: BudgetKind,
    windowMs: number,
    endpoint: string,
  ) =>
    (a.credential ?? '') === credential &&
    a.kind === kind &&
    (a.windowMs ?? 0) === windowMs &&
    (a.endpoint?.rule ?? '') === endpoint;
  /** tracks `rules`: a budget already tracked keeps its object (calls in flight settle into it) */
  const track = (rules: readonly BudgetRule[], saved: readonly BudgetRow[], kept: readonly Tracked[]) => {
    const at = now();
    return rules.map((rule): Tracked => {
      const old = kept.find((t) =>
        sameBudget(
          rule,
          t.rule.credential ?? '',
          t.rule.kind,
          t.rule.windowMs ?? 0,
          t.rule.endpoint?.rule ?? '',
        ),
      );
      if (old) {
        old.rule = rule;
        return old;
      }
      const row = saved.find((r) => sameBudget(rule, r.credential, r.kind, r.windowMs, r.endpoint));
      return { rule, windowStart: row?.windowStart ?? at, used: row?.used ?? 0, reserved: 0 };
    });
  };
  let tracked: Tracked[] = track(options.rules, options.saved ?? [], []);
  // per credential and scope, built once: the budgets that apply to its calls
  const byCredential = new Map<string, Tracked[]>();
  const applying = (credential: string, scope: BudgetScope = {}): Tracked[] => {
    const llm = scope.llm ?? true;
    const key = `${credential}\n${llm}\n${scope.rated?.join('\n') ?? ''}`;
    let list = byCredential.get(key);
    if (!list) {
      list = tracked.filter((t) => {
        if (t.rule.credential !== undefined && t.rule.credential !== credential) return false;
        if (t.rule.kind !== 'requests') return llm;
        return !t.rule.endpoint || (scope.rated?.includes(t.rule.endpoint.rule) ?? false);
      });
      byCredential.set(key, list);
    }
    return list;
  };
  const priceCache = new Map<string, ModelPrice>();
  const price = (model: string | undefined): ModelPrice => {
    const key = model ?? '';
    let p = priceCache.get(key);
    if (!p) priceCache.set(key, (p = priceOf(prices, model)));
    return p;
  };
  const amount = (kind: BudgetKind, model: string | undefined, input: number, output: number): number => {
    switch (kind) {
      case 'tokens':
        return input + output;
      case 'input':
        return input;
      case 'output':
        return output;
      case 'usd': {
        const p = price(model);
        return (input * p.input + output * p.output) / 1e6;
      }
      case 'requests':
        return 0; // a request counts once, when it is reserved and settled, whatever its tokens
    }
  };
  const roll = (t: Tracked, at: number) => {
    const w = t.rule.windowMs;
    if (w !== undefined && at >= t.windowStart + w) {
      t.windowStart = at;
      t.used = 0;
    }
  };
  const left = (t: Tracked) => t.rule.limit - t.used - t.reserved;
  const spent: Spend = { inputTokens: 0, outputTokens: 0, usd: 0 };

  const refuse = (t: Tracked, need: number, asked: string): BudgetRefusal => {
    const refusal: BudgetRefusal = { reason: describe(t, need, asked) };
    if (t.rule.windowMs !== undefined) refusal.retryAt = t.windowStart + t.rule.windowMs;
    return refusal;
  };
  const describe = (t: Tracked, need: number, asked: string): string => {
    const unit = t.rule.kind === 'usd' ? (n: number) => `$${round(n)}` : (n: number) => `${Math.round(n)}`;
    const reset =
      t.rule.windowMs === undefined
        ? ''
        : `; it starts afresh at ${new Date(t.windowStart + t.rule.windowMs).toISOString()}`;
    const held = `${unit(t.reserved)} held by calls in flight`;
    if (t.rule.kind === 'requests') {
      const what = t.rule.endpoint ? 'the request rate' : 'the request budget';
      return `${what} ${formatBudget(t.rule)} is used up (${t.used} of ${t.rule.limit} requests made, ${held})${reset}`;
    }
    const status = `${unit(t.used)} of ${unit(t.rule.limit)} used, ${held}`;
    return left(t) <= 0
      ? `the budget ${formatBudget(t.rule)} is used up (${status})${reset}`
      : `the budget ${formatBudget(t.rule)} cannot cover this call: it may use ${unit(need)} (${asked}), ${unit(left(t))} remain (${status})${reset}`;
  };

  return {
    prices,
    covers: (credential, scope) => applying(credential, scope).length > 0,
    reserve(credential, ask, scope) {
      const budgets = applying(credential, scope);
      const at = now();
      for (const t of budgets) roll(t, at);
      let output = ask.maxOutput;
      let asked = 'its max_tokens';
      if (output === undefined) {
        // no limit in the request: hold the default, or what the tightest budget has left
        output = DEFAULT_RESERVE_TOKENS;
        asked = `${DEFAULT_RESERVE_TOKENS} tokens held for a call that names no max_tokens`;
        for (const t of budgets) {
          const perToken = amount(t.rule.kind, ask.model, 0, 1);
          if (perToken > 0) output = Math.min(output, Math.floor(Math.max(0, left(t)) / perToken));
        }
      }
      const held = budgets.map((t) =>
        t.rule.kind === 'requests' ? 1 : amount(t.rule.kind, ask.model, 0, output),
      );
      for (const [i, t] of budgets.entries()) {
        if (left(t) <= 0 || held[i]! > left(t)) return refuse(t, held[i]!, asked);
      }
      for (const [i, t] of budgets.entries()) t.reserved += held[i]!;
      return { credential, model: ask.model, input: 0, output, held, budgets };
    },
    extend(r, seen) {
      const input = Math.max(0, seen.input - r.input);
      const output = Math.max(0, seen.output - r.output);
      if (input === 0 && output === 0) return true;
      const more = r.budgets.map((t) => amount(t.rule.kind, r.model, input, output));
      if (r.budgets.some((t, i) => more[i]! > left(t))) return false;
      r.budgets.forEach((t, i) => {
        t.reserved += more[i]!;
        r.held[i]! += more[i]!;
      });
      r.input += input;
      r.output += output;
      return true;
    },
    settle(r, usage) {
      const input = usage?.inputTokens ?? 0;
      const output = usage?.outputTokens ?? 0;
      const model = usage?.model ?? r?.model;
      spent.inputTokens += input;
      spent.outputTokens += output;
      if (input + output > 0) spent.usd += amount('usd', model, input, output);
      if (!r) return;
      const at = now();
      const rows: BudgetRow[] = [];
      r.budgets.forEach((t, i) => {
        t.reserved = Math.max(0, t.reserved - r.held[i]!);
        t.used += t.rule.kind === 'requests' ? 1 : amount(t.rule.kind, model, input, output);
        rows.push(toRow(t, at));
      });
      r.held.fill(0);
      if (rows.length > 0) persist?.(rows);
    },
    spend: () => ({ ...spent }),
    setRules(rules, saved = []) {
      tracked = track(rules, saved, tracked);
      byCredential.clear();
    },
    view() {
      const at = now();
      return tracked.map((t) => {
        roll(t, at);
        const v: BudgetView = {
          budget: formatBudget(t.rule),
          kind: t.rule.kind,
          limit: t.rule.limit,
          used: t.rule.kind === 'usd' ? round(t.used) : t.used,
          reserved: t.rule.kind === 'usd' ? round(t.reserved) : t.reserved,
        };
        if (t.rule.windowMs !== undefined)
          v.resetsAt = new Date(t.windowStart + t.rule.windowMs).toISOString();
        return v;
      });
    },
  };

  function toRow(t: Tracked, at: number): BudgetRow {
    return {
      owner,
      sandbox: sandboxId,
      credential: t.rule.credential ?? '',
      kind: t.rule.kind,
      windowMs: t.rule.windowMs ?? 0,
      endpoint: t.rule.endpoint?.rule ?? '',
      limit: t.rule.limit,
      windowStart: t.windowStart,
      used: t.used,
      updatedAt: at,
    };
  }
}

/** USD to 6 decimals (a millionth of a dollar is below any price in the table). */
function round(usd: number): number {
  return Math.round(usd * 1e6) / 1e6;
}
