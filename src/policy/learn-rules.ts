import { parseEndpointRule } from './endpoint-rules.js';
import { normalizeHost } from './host.js';
import type { ProfileDefinition } from './profiles.js';

/** One audit row as `airlock learn` reads it (never a secret: the credential is a variable name). */
export interface SeenRequest {
  method: string;
  /** upstream host of a service, or `host[:port]` of forward-proxy traffic */
  host: string;
  /** the normalized path that was checked (reverse route: after `/proxy/<service>`) */
  path: string;
  /** catalogue service name; null for forward-proxy traffic */
  service: string | null;
  /** the credential's variable name; null without one */
  credential: string | null;
  decision: string | null;
  reason: string | null;
}

/** A proposed endpoint rule and what it is based on. */
export interface LearnedRule {
  service: string;
  credential: string | null;
  /** `METHOD /path-glob` as config `endpoints` takes it */
  rule: string;
  /** requests it covers */
  requests: number;
  /** up to three distinct paths it was made from */
  examples: string[];
}

export interface LearnedHost {
  host: string;
  /** `service` = a credential's upstream (base URL); `forward` = through HTTP(S)_PROXY */
  via: 'service' | 'forward';
  requests: number;
}

/** Requests the recording refused: the proposal does not allow them; a person may. */
export interface RefusedSeen {
  method: string;
  host: string;
  path: string;
  reason: string;
  requests: number;
}

export interface Proposal {
  /** the profile's name in `config.profiles` */
  profile: string;
  /** a config file fragment (docs/config.schema.json): one custom profile */
  config: { profiles: Record<string, ProfileDefinition> };
  rules: LearnedRule[];
  hosts: LearnedHost[];
  refused: RefusedSeen[];
}

/**
 * Segments that name one object rather than a kind of them: numbers, UUIDs, hex hashes (with a
 * digit: `deadbeef` alone is a word), prefixed ids such as `file-AbC123…`, `msg_01…`,
 * `asst_abc123`, and long opaque tokens mixing letters and digits. Names (a repository, a
 * model) stay literal: the proposal is narrow, a person widens it.
 */
const ID_SHAPES: readonly RegExp[] = [
  /^\d+$/,
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
  /^(?=.*\d)[0-9a-f]{7,}$/i,
  /^[a-z]+[-_](?=[A-Za-z]*\d)[A-Za-z0-9]{6,}$/,
  /^(?=.*\d)(?=.*[A-Za-z])[A-Za-z0-9_]{20,}$/,
];
/** what a literal glob segment may hold (endpoint-rules.ts); anything else becomes `*` */
const LITERAL = /^[A-Za-z0-9\-._~:@!$&'()+,=]+$/;

/** A path's glob: id-like or unwritable segments become `*` (an empty segment stays: `*` needs one). */
export function pathGlob(path: string): string {
  const segments = path.split('/').slice(1);
  return `/${segments
    .map((s) => (s === '' ? s : LITERAL.test(s) && !ID_SHAPES.some((re) => re.test(s)) ? s : '*'))
    .join('/')}`;
}

/** `pypi.org:443` → `pypi.org`; `[2001:db8::1]:443` → `2001:db8::1`; canonical, or undefined. */
function hostOf(authority: string): string | undefined {
  const m = /^\[([^\]]+)\](?::\d+)?$/.exec(authority) ?? /^([^:]+)(?::\d+)?$/.exec(authority);
  if (!m) return undefined;
  const h = normalizeHost(m[1]!);
  return h.ok ? h.host : undefined;
}

const FORWARDED = new Set(['allowed', 'error', 'unknown']);

/**
 * Turns what a sandbox did into the narrowest profile that lets it do the same again: every
 * host it reached, and per credential one `METHOD /glob` rule per method and path shape seen
 * (ids collapsed into `*`), with the counts behind each. Refused requests are listed, not
 * allowed. Pure: the rows come from the audit log.
 */
export function proposeProfile(requests: readonly SeenRequest[], profile: string): Proposal {
  const rules = new Map<string, LearnedRule & { paths: Set<string> }>();
  const hosts = new Map<string, LearnedHost>();
  const refused = new Map<string, RefusedSeen>();
  for (const r of requests) {
    if (r.decision === 'denied') {
      const key = `${r.method} ${r.host}${r.path} ${r.reason ?? ''}`;
      const seen = refused.get(key);
      if (seen) seen.requests++;
      else
        refused.set(key, {
          method: r.method,
          host: r.host,
          path: r.path,
          reason: r.reason ?? '',
          requests: 1,
        });
      continue;
    }
    if (!FORWARDED.has(r.decision ?? '')) continue; // still in flight
    const host = hostOf(r.host);
    if (host !== undefined) {
      const h = hosts.get(host) ?? { host, via: r.service ? 'service' : 'forward', requests: 0 };
      h.requests++;
      hosts.set(host, h);
    }
    if (r.service === null) continue;
    const rule = `${r.method} ${pathGlob(r.path)}`;
    if (!parseEndpointRule(rule, 'learn').ok) continue; // cannot be written as a rule: left to review
    const key = `${r.service}\u0000${rule}`;
    const learned = rules.get(key) ?? {
      service: r.service,
      credential: r.credential,
      rule,
      requests: 0,
      examples: [],
      paths: new Set<string>(),
    };
    learned.requests++;
    if (learned.paths.size < 3 && !learned.paths.has(r.path)) learned.paths.add(r.path);
    rules.set(key, learned);
  }
  const ruleList = [...rules.values()]
    .map(({ paths, ...rule }) => ({ ...rule, examples: [...paths] }))
    .sort((a, b) => a.service.localeCompare(b.service) || a.rule.localeCompare(b.rule));
  const hostList = [...hosts.values()].sort((a, b) => a.host.localeCompare(b.host));
  const endpoints: Record<string, string[]> = {};
  for (const r of ruleList) (endpoints[r.service] ??= []).push(r.rule);
  return {
    profile,
    config: {
      profiles: {
        [profile]: {
          description: `learned by airlock learn from ${requests.length} recorded requests; review before use`,
          hosts: hostList.map((h) => h.host),
          endpoints,
        },
      },
    },
    rules: ruleList,
    hosts: hostList,
    refused: [...refused.values()],
  };
}
