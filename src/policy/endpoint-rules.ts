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
 */

export type GlobSegment = { kind: 'literal'; value: string } | { kind: 'one' } | { kind: 'any' };

export interface EndpointRule {
  /** exact method token, or `*` for any standard method */
  method: string;
  segments: GlobSegment[];
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

function buildRule(method: string, glob: string, rateText: string | undefined, source: string): RuleResult {
  if (method !== '*' && !isMethodToken(method)) {
    return { ok: false, reason: `"${method}" is not an HTTP method token` };
  }
  const g = parseGlob(glob);
  if (!g.ok) return g;
  const rule: EndpointRule = { method, segments: g.segments, text: `${method} ${glob}`, source };
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

/** Does `rule` allow `method` on the decoded `segments`? */
export function ruleMatches(rule: EndpointRule, method: string, segments: readonly string[]): boolean {
  const methodOk = rule.method === '*' ? isStandardMethod(method) : rule.method === method;
  return methodOk && globMatches(rule.segments, segments);
}
