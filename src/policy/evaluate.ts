import type { ErrorCode } from '../errors.js';
import {
  hostHeaderMatches,
  parseAbsoluteTarget,
  parseConnectTarget,
  type ForwardTarget,
} from './authority.js';
import { ruleMatches } from './endpoint-rules.js';
import { formatHostPattern, hostMatches } from './host.js';
import { isMethodToken, isStandardMethod } from './method.js';
import { normalizeTarget } from './path.js';
import type { SandboxPolicy } from './sandbox-policy.js';

/** A reverse-route request `/proxy/<service><target>`, before anything is forwarded. */
export interface ServiceRequest {
  kind: 'service';
  service: string;
  /** the request method token, exactly as received */
  method: string;
  /** the raw target after `/proxy/<service>`: '' or `/path[?query]` */
  target: string;
}

/** A forward-proxy request: `CONNECT host:port`, or an absolute-form `http://host[:port]/…`. */
export interface ForwardRequest {
  kind: 'forward';
  method: string;
  /** the request target as received: authority-form for CONNECT, absolute-form otherwise */
  target: string;
  /** the `Host` header (omitted = none was sent) */
  hostHeader?: string;
}

export type PolicyRequest = ServiceRequest | ForwardRequest;

/** A reverse-route request the policy allows. */
export interface ServiceAllowed {
  allow: true;
  /** the exact normalized path+query to forward (the one that was checked) */
  target: string;
  /** the rule that allowed it (omitted = the service has no rules) */
  rule?: string;
  /** every matching rule that carries a request rate, as `METHOD /glob` (omitted = none) */
  rated?: string[];
}

/** A forward-proxy request the policy allows; the proxy still checks the address it dials. */
export interface ForwardAllowed {
  allow: true;
  target: ForwardTarget;
  /**
   * a CONNECT to a host of this granted service: the proxy terminates its TLS and serves each
   * request inside as the service's reverse route would (omitted = an ordinary allowed host)
   */
  service?: string;
}

/** The codes a policy refusal carries; the error registry gives each its status and type. */
export type DenialCode = Extract<
  ErrorCode,
  | 'AIRLOCK_ERR_BAD_REQUEST'
  | 'AIRLOCK_ERR_UNKNOWN_SERVICE'
  | 'AIRLOCK_ERR_POLICY_DENIED'
  | 'AIRLOCK_ERR_USE_BASE_URL'
>;

export interface Denial {
  allow: false;
  code: DenialCode;
  /** names the service or host and the rule set that refused it; never a secret */
  message: string;
}

/** The policy's one answer, for the reverse route and the forward proxy alike. */
export type Decision<Allowed = ServiceAllowed | ForwardAllowed> = Allowed | Denial;

const deny = (code: DenialCode, message: string): Denial => ({ allow: false, code, message });

/** Ports the forward proxy connects to: HTTPS via CONNECT and plain HTTP. */
export const FORWARD_PORTS: readonly number[] = [443, 80];

/** Decides one request against a sandbox's composed policy. Pure. */
export function evaluate(policy: SandboxPolicy, request: ServiceRequest): Decision<ServiceAllowed>;
export function evaluate(policy: SandboxPolicy, request: ForwardRequest): Decision<ForwardAllowed>;
export function evaluate(policy: SandboxPolicy, request: PolicyRequest): Decision {
  if (!isMethodToken(request.method))
    return deny('AIRLOCK_ERR_BAD_REQUEST', 'the request method is not a valid token');
  return request.kind === 'service' ? evaluateService(policy, request) : evaluateForward(policy, request);
}

function evaluateService(policy: SandboxPolicy, req: ServiceRequest): Decision<ServiceAllowed> {
  const granted = policy.services.get(req.service);
  if (!granted) {
    if (!policy.catalogue.byName(req.service)) {
      return deny('AIRLOCK_ERR_UNKNOWN_SERVICE', `unknown service "${req.service}" (see airlock services)`);
    }
    return deny(
      'AIRLOCK_ERR_POLICY_DENIED',
      `service "${req.service}": no credential for it was granted to this sandbox (${policy.ruleSet})`,
    );
  }
  const t = normalizeTarget(req.target);
  if (!t.ok) return deny('AIRLOCK_ERR_BAD_REQUEST', `service "${req.service}": malformed path: ${t.reason}`);
  const { method } = req;
  if (granted.rules.length === 0) {
    if (isStandardMethod(method)) return { allow: true, target: t.target };
    return deny(
      'AIRLOCK_ERR_POLICY_DENIED',
      `${method} ${t.path} refused for service "${req.service}": method ${method} is not a standard method and no endpoint rule names it (${policy.ruleSet})`,
    );
  }
  const hit = granted.rules.find((r) => ruleMatches(r, method, t.segments, t.query));
  if (hit) {
    const allowed: ServiceAllowed = { allow: true, target: t.target, rule: hit.text };
    // every rated rule that matches counts, so an unrated twin cannot dodge a rate
    if (granted.rated) {
      const rated = granted.rules.filter((r) => r.rate && ruleMatches(r, method, t.segments, t.query));
      if (rated.length > 0) allowed.rated = rated.map((r) => r.text);
    }
    return allowed;
  }
  const sources = [...new Set(granted.rules.map((r) => r.source))].join(', ');
  // a rule that looks at the query is refused with it shown (git's fetch vs push differ there)
  const shown = granted.rules.some((r) => r.query.length > 0) ? t.target : t.path;
  return deny(
    'AIRLOCK_ERR_POLICY_DENIED',
    `${method} ${shown} refused for service "${req.service}": not in its endpoint rules (from ${sources}; ${policy.ruleSet}), which allow only ${granted.rules.map((r) => r.text).join(', ')}`,
  );
}

function evaluateForward(policy: SandboxPolicy, req: ForwardRequest): Decision<ForwardAllowed> {
  const connect = req.method === 'CONNECT';
  const parsed = connect ? parseConnectTarget(req.target) : parseAbsoluteTarget(req.target);
  if (!parsed.ok) {
    return deny(
      'AIRLOCK_ERR_BAD_REQUEST',
      `forward proxy: bad target "${req.target.slice(0, 100)}": ${parsed.reason}`,
    );
  }
  const target = parsed.target;
  const { host, port } = target;
  if (!hostHeaderMatches(req.hostHeader, target, connect ? 443 : 80)) {
    return deny(
      'AIRLOCK_ERR_BAD_REQUEST',
      `forward proxy: the Host header disagrees with the target ${target.authority}`,
    );
  }
  const owner = policy.credentialHosts.get(host);
  if (owner && connect && port === 443) return { allow: true, target, service: owner };
  if (owner) {
    const vars = policy.services.get(owner)?.service.baseUrlVariables.map((v) => `$${v.name}`) ?? [];
    return deny(
      'AIRLOCK_ERR_USE_BASE_URL',
      `${host} holds this sandbox's "${owner}" credential, which is injected only over HTTPS on port 443 (a CONNECT airlock intercepts) or through the base URL${vars.length ? ` (${vars.join(', ')})` : ''}, i.e. /proxy/${owner}/…`,
    );
  }
  if (!FORWARD_PORTS.includes(port)) {
    return deny(
      'AIRLOCK_ERR_POLICY_DENIED',
      `forward proxy: port ${port} of ${host} refused (only ${FORWARD_PORTS.join(' and ')})`,
    );
  }
  if (policy.open || policy.hosts.some((p) => hostMatches(p, host))) return { allow: true, target };
  const allowed = policy.hosts.map(formatHostPattern);
  return deny(
    'AIRLOCK_ERR_POLICY_DENIED',
    `forward proxy: ${host} is not allowed by ${policy.ruleSet}${allowed.length ? ` (allowed: ${allowed.join(', ')})` : ' (no hosts allowed)'}`,
  );
}
