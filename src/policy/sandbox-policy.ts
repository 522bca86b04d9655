import { upstreamHost, type Catalogue } from '../catalogue/catalogue.js';
import type { Service } from '../catalogue/service.js';
import { closestName, didYouMean } from '../did-you-mean.js';
import { AirlockError } from '../errors.js';
import { parseEndpointFlag, parseEndpointRule, type EndpointRule } from './endpoint-rules.js';
import { formatHostPattern, hostMatches, parseHostPattern, type HostPattern } from './host.js';
import { formatIssuePath } from './issues.js';
import { validateEndpoints, validateProfiles } from './profile-validation.js';
import {
  OPEN_WARNING,
  PRESET_PROFILES,
  presetCredentialHosts,
  presetHosts,
  presetProfile,
  type ProfileDefinition,
} from './profiles.js';

/** What `--learn` prints before the guest starts. */
export const LEARN_WARNING =
  'learn mode: endpoint rules are not enforced; every request is recorded for `airlock learn`';

export interface SandboxPolicyOptions {
  catalogue: Catalogue;
  /** profiles chosen with `--profile`, composed as a union (omitted/empty = only the services
   * of the granted credentials) */
  profiles?: readonly string[];
  /** custom profiles from the config file (omitted = none) */
  customProfiles?: Readonly<Record<string, ProfileDefinition>>;
  /** granted credentials by variable name or alias, e.g. `OPENAI_API_KEY` (omitted = none) */
  credentials?: readonly string[];
  /** config `endpoints`: rules per service name (omitted = none) */
  endpoints?: Readonly<Record<string, readonly string[]>>;
  /** `--allow-endpoint service:METHOD:/path` values (omitted = none) */
  allowEndpoints?: readonly string[];
  /**
   * learn mode (`--learn`): endpoint rules are checked as written but not enforced, so the
   * audit log records everything the profiles' hosts allow, for `airlock learn` (omitted = false)
   */
  learn?: boolean;
}

/** A service the sandbox holds a credential for. */
export interface ServicePolicy {
  service: Service;
  /** the credential's variable name as granted (never its value) */
  credential: string;
  /** the union of every rule for this service (empty = every endpoint allowed) */
  rules: EndpointRule[];
  /** whether a rule carries a request rate */
  rated: boolean;
}

/** One sandbox's composed, immutable policy: what `evaluate` decides against. */
export interface SandboxPolicy {
  /** the chosen profiles ([] = credentials only) */
  profiles: readonly string[];
  /** how denials name the profile set: `profile "llm-only"`, `no profile (credentials only)` */
  ruleSet: string;
  /** any public host through the forward proxy */
  open: boolean;
  /** hosts the forward proxy may reach (besides `open`) */
  hosts: readonly HostPattern[];
  /**
   * hosts a credential may be granted for but that are reached only with one (llm-only's LLM
   * hosts): no opaque tunnel goes there unless `hosts` or `open` allows it too
   */
  credentialOnlyHosts: readonly HostPattern[];
  /** granted services by name (the reverse route works only for these) */
  services: ReadonlyMap<string, ServicePolicy>;
  /** canonical host → granted service, for refusing `CONNECT` to a credential's host */
  credentialHosts: ReadonlyMap<string, string>;
  catalogue: Catalogue;
  /** lines the CLI prints before starting (e.g. the `open` warning) */
  warnings: readonly string[];
}

interface Collected {
  hosts: HostPattern[];
  credentialOnlyHosts: HostPattern[];
  open: boolean;
  denyAll: boolean;
  rules: { service: string; rule: EndpointRule }[];
}

/** One error for every problem found: a single one on the message line, several one a line below. */
function configError(lines: string[]): AirlockError {
  const message =
    lines.length === 1
      ? lines[0]!
      : `${lines.length} problems in the config file or flags:\n${lines.join('\n')}`;
  return new AirlockError('AIRLOCK_ERR_CONFIG', message, {
    hint: `correct ${lines.length === 1 ? 'it' : 'each line'} in the config file or flags; docs/config.md describes every field`,
  });
}

/** Collects one profile (and what it extends) into `acc`; `seen` stops at cycles. */
function collect(
  name: string,
  custom: Readonly<Record<string, ProfileDefinition>>,
  catalogue: Catalogue,
  acc: Collected,
  seen: Set<string>,
): void {
  if (seen.has(name)) return;
  seen.add(name);
  const preset = presetProfile(name);
  const def = preset ?? custom[name];
  if (!def) {
    const known = [...PRESET_PROFILES.map((p) => p.name), ...Object.keys(custom)];
    throw new AirlockError('AIRLOCK_ERR_PROFILE', `unknown profile "${name}"`, {
      hint: `${didYouMean(name, known)}profiles: ${known.join(', ')} (see airlock profiles)`,
    });
  }
  for (const parent of def.extends ?? []) collect(parent, custom, catalogue, acc, seen);
  const hosts = preset ? presetHosts(preset, catalogue) : (def.hosts ?? []);
  for (const h of hosts) {
    const r = parseHostPattern(h);
    if (!r.ok) throw configError([`profiles.${name}.hosts: ${r.reason}`]);
    acc.hosts.push(r.pattern);
  }
  // llm-only's LLM hosts take a credential of this sandbox, never a key the guest brought
  for (const h of preset ? presetCredentialHosts(preset, catalogue) : []) {
    const r = parseHostPattern(h);
    if (r.ok) acc.credentialOnlyHosts.push(r.pattern);
  }
  if (preset?.open) acc.open = true;
  if (preset?.denyAll) acc.denyAll = true;
  for (const [service, texts] of Object.entries(def.endpoints ?? {})) {
    for (const text of texts) {
      const r = parseEndpointRule(text, `profile "${name}"`);
      if (!r.ok) throw configError([`profiles.${name}.endpoints.${service}: ${r.reason}`]);
      acc.rules.push({ service, rule: r.rule });
    }
  }
}

/**
 * Composes a sandbox's policy from its profiles, credentials and endpoint rules. Throws
 * before anything starts: an unknown profile, `deny-all` combined with another profile, an
 * unknown credential, or a credential whose upstream host the profiles don't allow (naming
 * both).
 */
export function createSandboxPolicy(options: SandboxPolicyOptions): SandboxPolicy {
  const { catalogue } = options;
  const custom = options.customProfiles ?? {};
  const chosen = [...new Set(options.profiles ?? [])];
  const issues = [
    ...validateProfiles(custom, catalogue),
    ...validateEndpoints(options.endpoints ?? {}, catalogue, ['endpoints']),
  ];
  if (issues.length > 0) throw configError(issues.map((i) => `${formatIssuePath(i.path)}: ${i.message}`));
  if (chosen.includes('deny-all') && chosen.length > 1) {
    throw new AirlockError(
      'AIRLOCK_ERR_PROFILE',
      `profile "deny-all" cannot be combined with ${chosen
        .filter((p) => p !== 'deny-all')
        .map((p) => `"${p}"`)
        .join(', ')}`,
    );
  }
  const acc: Collected = { hosts: [], credentialOnlyHosts: [], open: false, denyAll: false, rules: [] };
  const seen = new Set<string>();
  for (const name of chosen) collect(name, custom, catalogue, acc, seen);

  for (const [service, texts] of Object.entries(options.endpoints ?? {})) {
    for (const text of texts) {
      const r = parseEndpointRule(text, `config endpoints.${service}`);
      if (r.ok) acc.rules.push({ service, rule: r.rule });
    }
  }
  for (const flag of options.allowEndpoints ?? []) {
    const r = parseEndpointFlag(flag);
    if (!r.ok) throw configError([r.reason]);
    if (!catalogue.byName(r.service)) {
      const close = closestName(
        r.service,
        catalogue.services.map((s) => s.name),
      );
      const guess = close === undefined ? '' : ` (did you mean "${close}"?)`;
      throw configError([
        `--allow-endpoint "${flag}": unknown service "${r.service}"${guess} (see airlock services)`,
      ]);
    }
    acc.rules.push({ service: r.service, rule: r.rule });
  }

  const ruleSet =
    chosen.length === 0
      ? 'no profile (credentials only)'
      : `profile ${chosen.map((p) => `"${p}"`).join(' + ')}`;
  const services = new Map<string, ServicePolicy>();
  const credentialHosts = new Map<string, string>();
  for (const credential of options.credentials ?? []) {
    const service = catalogue.byEnvVar(credential);
    if (!service) {
      throw new AirlockError(
        'AIRLOCK_ERR_CREDENTIAL_UNKNOWN',
        `no service takes the credential ${credential}`,
        {
          hint: `${didYouMean(
            credential,
            catalogue.services.flatMap((s) => [s.envVar, ...s.aliases]),
          )}run \`airlock services\` for the variable names, or add a custom service to the config file`,
        },
      );
    }
    const already = services.get(service.name);
    if (already) {
      throw new AirlockError(
        'AIRLOCK_ERR_CONFIG',
        `credentials ${already.credential} and ${credential} are both for service "${service.name}"`,
        { hint: 'grant one of them; the guest gets every alias of the service anyway' },
      );
    }
    const host = upstreamHost(service);
    const listed = [...acc.hosts, ...acc.credentialOnlyHosts];
    if (chosen.length > 0 && !acc.open && !listed.some((p) => hostMatches(p, host))) {
      throw new AirlockError(
        'AIRLOCK_ERR_CREDENTIAL_NOT_ALLOWED',
        `credential ${credential} is for ${host} (service "${service.name}"), which ${ruleSet} does not allow`,
        { hint: `add a profile that allows ${host}, or leave out --cred ${credential}` },
      );
    }
    const allows = (s: Service) =>
      chosen.length === 0 || acc.open || acc.hosts.some((p) => hostMatches(p, upstreamHost(s)));
    // a companion (github-git) comes with the credential where the profiles allow its upstream
    for (const s of [service, ...catalogue.companions(service.name).filter(allows)]) {
      const rules = options.learn ? [] : acc.rules.filter((r) => r.service === s.name).map((r) => r.rule);
      services.set(s.name, { service: s, credential, rules, rated: rules.some((r) => r.rate) });
      for (const h of s.hosts) credentialHosts.set(h.toLowerCase(), s.name);
    }
  }
  const unruled = [...services.values()].filter(
    (s) =>
      s.service.credentialOf !== undefined &&
      s.rules.length === 0 &&
      (services.get(s.service.credentialOf)?.rules.length ?? 0) > 0,
  );
  const ruleWarnings = unruled.map(
    (s) =>
      `endpoint rules restrict "${s.service.credentialOf}" but not "${s.service.name}", which sends the same credential to ${upstreamHost(s.service)} (git push included); give "${s.service.name}" rules of its own`,
  );
  // with no profile, a sandbox reaches exactly its credentials' services
  const hosts =
    chosen.length === 0
      ? [...credentialHosts.keys()].map((host): HostPattern => ({ kind: 'exact', host }))
      : dedupe(acc.hosts);
  return {
    profiles: chosen,
    ruleSet,
    open: acc.open,
    hosts,
    credentialOnlyHosts: dedupe(acc.credentialOnlyHosts),
    services,
    credentialHosts,
    catalogue,
    warnings: [
      ...(acc.open ? [OPEN_WARNING] : []),
      ...(options.learn ? [LEARN_WARNING] : []),
      ...ruleWarnings,
    ],
  };
}

function dedupe(patterns: HostPattern[]): HostPattern[] {
  const byText = new Map(patterns.map((p) => [formatHostPattern(p), p]));
  return [...byText.values()];
}
