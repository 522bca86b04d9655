import { isMethodToken, isStandardMethod } from './method.js';
import { SERVICE_NAME } from './path.js';
import { parseRate, type RequestRate } from './rate.js';

/**
 * Endpoint rules, pure: `METHOD /path-glob`, e.g. `POST /v1/chat/completions` or
 * `GET /v1/models/*`. In a glob, `*` is exactly one non-empty segment, `**` is zero or more
 * segments of any content (including a trailing slash), and every other segment is a literal
 * compared case-sensitively with the decoded request segment. A trailing `/` is significant.
 * The method is an exact, case-sensitive token; `*` means any of the standard methods. A
 * rule may end with a request rate, `POST /v1/chat/* 60/1m`: the requests it matches count
 * toward at most that many per window (the budget ledger keeps the count).
 * A glob may end in `?name=value[&name=value…]`: then each named query parameter must occur
 * in the request exactly once (names compared without case when counting) with exactly that
 * value after percent-decoding; other parameters may be present. Without it the query is
 * not looked at (`…/info/refs?service=git-upload-pack` is git's fetch, not its push).
 */

export type GlobSegment = { kind: 'literal'; value: string } | { kind: 'one' } | { kind: 'any' };

/** A query parameter a rule requires: exactly one `name`, with exactly `value`. */
export interface QueryCondition {
  name: string;
  value: string;
}

export interface EndpointRule {
  /** exact method token, or `*` for any standard method */
  method: string;
  segments: GlobSegment[];
  /** query parameters the request must carry (empty = the query is not looked at) */
  query: QueryCondition[];
  /** the rule as written, normalized to `METHOD /glob` (without its rate) */
  text: string;
  /** at most this many matching requests per window (omitted = no rate) */
  rate?: RequestRate;
  /** where the rule came from, for denial messages: `config endpoints.openai`, `--allow-endpoint` */
  source: string;
}

export type RuleResult = { ok: true; rule: EndpointRule } | { ok: false; reason: string };

/** characters allowed in a literal glob segment (unreserved, `:`, `@` and sub-delims but `;` `*`) */
const LITERAL = /^[A-Za-z0-9\-._~:@!$&'()+,=]+$/;

function parseGlob(glob: string): { ok: true; segments: GlobSegment[] } | { ok: false; reason: string } {
  if (!glob.startsWith('/')) return { ok: false, reason: `path "${glob}" must start with "/"` };
  const parts = glob.slice(1).split('/');
  const segments: GlobSegment[] = [];
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (p === '') {
      if (i < parts.length - 1) return { ok: false, reason: `path "${glob}" has an empty segment ("//")` };
      segments.push({ kind: 'literal', value: '' });
    } else if (p === '*') segments.push({ kind: 'one' });
    else if (p === '**') segments.push({ kind: 'any' });
    else if (p === '.' || p === '..') return { ok: false, reason: `path "${glob}" has a dot segment` };
    else if (p.includes('*')) {
      return { ok: false, reason: `path "${glob}": "*" and "**" must be a whole segment` };
    } else if (!LITERAL.test(p)) {
      return {
        ok: false,
        reason: `path "${glob}": segment "${p}" may hold only letters, digits and - . _ ~ : @ ! $ & ' ( ) + , = (no %, ;, ?, #, \\ or spaces)`,
      };
    } else segments.push({ kind: 'literal', value: p });
  }
  return { ok: true, segments };
}

/** Parses `METHOD /path-glob [COUNT/WINDOW]` (space-separated, as in config and profiles). */
export function parseEndpointRule(text: string, source: string): RuleResult {
  const m = /^(\S+) +(\S+)(?: +(\S+))?$/.exec(text.trim());
  if (!m)
    return {
      ok: false,
      reason: `"${text}" is not "METHOD /path [RATE]", e.g. "POST /v1/chat/completions" or "POST /v1/chat/* 60/1m"`,
    };
  return buildRule(m[1]!, m[2]!, m[3], source);
}

/** characters allowed in a rule's query parameter name or value (unreserved only) */
const QUERY_WORD = /^[A-Za-z0-9\-._~]+$/;

function parseQueryConditions(
  text: string,
): { ok: true; query: QueryCondition[] } | { ok: false; reason: string } {
  const query: QueryCondition[] = [];
  for (const part of text.split('&')) {
    const eq = part.indexOf('=');
    const [name, value] = eq < 0 ? [part, ''] : [part.slice(0, eq), part.slice(eq + 1)];
    if (!QUERY_WORD.test(name) || !QUERY_WORD.test(value)) {
      return {
        ok: false,
        reason: `query "${part}" must be name=value, each made of letters, digits and - . _ ~`,
      };
    }
    if (query.some((q) => q.name.toLowerCase() === name.toLowerCase())) {
      return { ok: false, reason: `query parameter "${name}" is named twice` };
    }
    query.push({ name, value });
  }
  return { ok: true, query };
}

function buildRule(method: string, target: string, rateText: string | undefined, source: string): RuleResult {
  if (method !== '*' && !isMethodToken(method)) {
    return { ok: false, reason: `"${method}" is not an HTTP method token` };
  }
  const q = target.indexOf('?');
  const g = parseGlob(q < 0 ? target : target.slice(0, q));
  if (!g.ok) return g;
  const c = q < 0 ? { ok: true as const, query: [] } : parseQueryConditions(target.slice(q + 1));
  if (!c.ok) return c;
  const rule: EndpointRule = {
    method,
    segments: g.segments,
    query: c.query,
    text: `${method} ${target}`,
    source,
  };
  if (rateText !== undefined) {
    const r = parseRate(rateText);
    if (!r.ok) return r;
    rule.rate = r.rate;
  }
  return { ok: true, rule };
}

export type FlagRuleResult =
  { ok: true; service: string; rule: EndpointRule } | { ok: false; reason: string };

/**
 * Parses the flag form `service:METHOD:/path-glob[ COUNT/WINDOW]`
 * (`openai:POST:/v1/chat/completions`, `openai:POST:/v1/chat/* 60/1m`).
 */
export function parseEndpointFlag(text: string, source = '--allow-endpoint'): FlagRuleResult {
  const first = text.indexOf(':');
  const second = first < 0 ? -1 : text.indexOf(':', first + 1);
  if (first < 0 || second < 0) {
    return {
      ok: false,
      reason: `${source} "${text}" is not SERVICE:METHOD:/path[ RATE], e.g. openai:POST:/v1/chat/completions or "openai:POST:/v1/chat/* 60/1m"`,
    };
  }
  const service = text.slice(0, first);
  if (!SERVICE_NAME.test(service))
    return { ok: false, reason: `${source} "${text}": "${service}" is not a service name` };
  const [glob = '', rate, ...extra] = text.slice(second + 1).split(/ +/);
  if (extra.length > 0) return { ok: false, reason: `${source} "${text}": more than a path and a rate` };
  const r = buildRule(text.slice(first + 1, second), glob, rate, source);
  return r.ok
    ? { ok: true, service, rule: r.rule }
    : { ok: false, reason: `${source} "${text}": ${r.reason}` };
}

/** Does `glob` match the decoded request `segments` (from normalizeTarget)? */
export function globMatches(glob: readonly GlobSegment[], segments: readonly string[]): boolean {
  // memo of failed (glob index, segment index) pairs keeps several `**` linear, not exponential
  const failed = new Set<number>();
  const match = (gi: number, si: number): boolean => {
    if (gi === glob.length) return si === segments.length;
    const key = gi * (segments.length + 1) + si;
    if (failed.has(key)) return false;
    const ok = step(gi, si);
    if (!ok) failed.add(key);
    return ok;
  };
  const step = (gi: number, si: number): boolean => {
    const g = glob[gi]!;
    if (g.kind === 'any') {
      for (let k = si; k <= segments.length; k++) if (match(gi + 1, k)) return true;
      return false;
    }
    if (si === segments.length) return false;
    const s = segments[si]!;
    if (g.kind === 'one' ? s === '' : s !== g.value) return false;
    return match(gi + 1, si + 1);
  };
  return match(0, 0);
}

function decodeQueryPart(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}

/** Does the raw query (after `?`, omitted = none) carry each condition exactly once, with its value? */
export function queryMatches(conditions: readonly QueryCondition[], rawQuery: string | undefined): boolean {
  if (conditions.length === 0) return true;
  const parts = (rawQuery ?? '').split('&').map((part) => {
    const eq = part.indexOf('=');
    return eq < 0
      ? { name: decodeQueryPart(part), value: '' }
      : { name: decodeQueryPart(part.slice(0, eq)), value: decodeQueryPart(part.slice(eq + 1)) };
  });
  return conditions.every((c) => {
    // an undecodable name could be this one: counted, so it can never match
    const same = parts.filter((p) => p.name === undefined || p.name.toLowerCase() === c.name.toLowerCase());
    return same.length === 1 && same[0]!.name === c.name && same[0]!.value === c.value;
  });
}

/** Does `rule` allow `method` on the decoded `segments` with the raw `query` (omitted = none)? */
export function ruleMatches(
  rule: EndpointRule,
  method: string,
  segments: readonly string[],
  query?: string,
): boolean {
  const methodOk = rule.method === '*' ? isStandardMethod(method) : rule.method === method;
  return methodOk && globMatches(rule.segments, segments) && queryMatches(rule.query, query);
}
