import type { ErrorCode } from '../errors.js';
import { classifyAddress } from './address-class.js';
import { ruleMatches } from './endpoint-rules.js';
import { formatHostPattern, hostMatches, normalizeHost } from './host.js';
import type { IpAddress } from './ip-address.js';
import { isMethodToken, isStandardMethod } from './method.js';
import { normalizeTarget } from './path.js';
import type { SandboxPolicy } from './sandbox-policy.js';

/** A request as the proxy sees it, before anything is forwarded. */
export type PolicyRequest =
  /** reverse route `/proxy/<service><target>` */
  | {
      kind: 'service';
      service: string;
      method: string;
      /** the raw target after `/proxy/<service>`: '' or `/path[?query]` */
      target: string;
    }
  /** forward proxy: `CONNECT host:port` or an absolute-form `http://host[:port]/…` */
  | { kind: 'forward'; host: string; port: number; method: string };

export type DenialType =
  | 'airlock_policy_denied'
  | 'airlock_bad_path'
  | 'airlock_bad_method'
  | 'airlock_bad_host'
  | 'airlock_unknown_service'
  | 'airlock_use_base_url'
  | 'airlock_forbidden_address';

export type Decision =
  | {
      allow: true;
      /** reverse route: the exact normalized path+query to forward (the one that was checked) */
      target?: string;
      /** forward proxy: the canonical host that was checked */
      host?: string;
      /** the rule that allowed it (omitted = the service has no rules, or a forward request) */
      rule?: string;
    }
  | {
      allow: false;
      /** 400 malformed, 403 policy, 404 unknown service */
      status: 400 | 403 | 404;
      type: DenialType;
      code: ErrorCode;
      /** names the service or host and the rule set that refused it; never a secret */
      message: string;
    };

const deny = (status: 400 | 403 | 404, type: DenialType, message: string): Decision => ({
  allow: false,
  status,
  type,
  code:
    status === 400
      ? 'AIRLOCK_ERR_BAD_REQUEST'
      : status === 404
        ? 'AIRLOCK_ERR_UNKNOWN_SERVICE'
        : 'AIRLOCK_ERR_POLICY_DENIED',
  message,
});

/** Ports the forward proxy connects to: HTTPS via CONNECT and plain HTTP. */
export const FORWARD_PORTS: readonly number[] = [443, 80];

/** Decides one request against a sandbox's composed policy. Pure. */
export function evaluate(policy: SandboxPolicy, request: PolicyRequest): Decision {
  if (!isMethodToken(request.method))
    return deny(400, 'airlock_bad_method', 'the request method is not a valid token');
  return request.kind === 'service' ? evaluateService(policy, request) : evaluateForward(policy, request);
}

function evaluateService(policy: SandboxPolicy, req: Extract<PolicyRequest, { kind: 'service' }>): Decision {
  const granted = policy.services.get(req.service);
  if (!granted) {
    if (!policy.catalogue.byName(req.service)) {
      return deny(404, 'airlock_unknown_service', `unknown service "${req.service}" (see airlock services)`);
    }
    return deny(
      403,
      'airlock_policy_denied',
      `service "${req.service}": no credential for it was granted to this sandbox (${policy.ruleSet})`,
    );
  }
  const t = normalizeTarget(req.target);
  if (!t.ok) return deny(400, 'airlock_bad_path', `service "${req.service}": malformed path: ${t.reason}`);
  const { method } = req;
  if (granted.rules.length === 0) {
    if (isStandardMethod(method)) return { allow: true, target: t.target };
    return deny(
      403,
      'airlock_policy_denied',
      `${method} ${t.path} refused for service "${req.service}": method ${method} is not a standard method and no endpoint rule names it (${policy.ruleSet})`,
    );
  }
  const hit = granted.rules.find((r) => ruleMatches(r, method, t.segments));
  if (hit) return { allow: true, target: t.target, rule: hit.text };
  const sources = [...new Set(granted.rules.map((r) => r.source))].join(', ');
  return deny(
    403,
    'airlock_policy_denied',
    `${method} ${t.path} refused for service "${req.service}": not in its endpoint rules (from ${sources}; ${policy.ruleSet}), which allow only ${granted.rules.map((r) => r.text).join(', ')}`,
  );
}

function evaluateForward(policy: SandboxPolicy, req: Extract<PolicyRequest, { kind: 'forward' }>): Decision {
  const h = normalizeHost(req.host);
  if (!h.ok) return deny(400, 'airlock_bad_host', `forward proxy: bad host: ${h.reason}`);
  const host = h.host;
  const owner = policy.credentialHosts.get(host);
  if (owner) {
    const vars = policy.services.get(owner)?.service.baseUrlVariables.map((v) => `$${v.name}`) ?? [];
    return deny(
      403,
      'airlock_use_base_url',
      `${host} holds this sandbox's "${owner}" credential, which cannot be injected through the forward proxy; use the base URL${vars.length ? ` (${vars.join(', ')})` : ''}, i.e. /proxy/${owner}/…`,
    );
  }
  if (!FORWARD_PORTS.includes(req.port)) {
    return deny(
      403,
      'airlock_policy_denied',
      `forward proxy: port ${req.port} of ${host} refused (only ${FORWARD_PORTS.join(' and ')})`,
    );
  }
  if (h.ip) {
    const c = classifyAddress(h.ip);
    if (c.forbidden)
      return deny(403, 'airlock_forbidden_address', forbiddenMessage(host, c.category, c.embeddedIPv4));
  }
  if (policy.open || policy.hosts.some((p) => hostMatches(p, host))) return { allow: true, host };
  const allowed = policy.hosts.map(formatHostPattern);
  return deny(
    403,
    'airlock_policy_denied',
    `forward proxy: ${host} is not allowed by ${policy.ruleSet}${allowed.length ? ` (allowed: ${allowed.join(', ')})` : ' (no hosts allowed)'}`,
  );
}

function forbiddenMessage(host: string, category: string, embedded?: string): string {
  return `forward proxy: ${host} is a ${category} address${embedded ? ` (embeds ${embedded})` : ''}; airlock never connects there`;
}

/**
 * The check after the forward proxy resolved an allowed host name: every address it would
 * dial must be outside the forbidden classes, unless the admin pinned the host in config
 * `resolve` (then the pinned address is trusted as configured).
 */
export function evaluateResolvedAddress(host: string, address: IpAddress, pinned: boolean): Decision {
  if (pinned) return { allow: true, host };
  const c = classifyAddress(address);
  if (!c.forbidden) return { allow: true, host };
  return deny(
    403,
    'airlock_forbidden_address',
    `forward proxy: ${host} resolves to a ${c.category} address; airlock never connects there (pin it in config "resolve" if this is intended)`,
  );
}
