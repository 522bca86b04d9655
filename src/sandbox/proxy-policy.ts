import { classifyAddress, evaluate, parseIpLiteral, type SandboxPolicy } from '../policy/index.js';
import type { AuthorizeDecision, AuthorizeRequest, ForwardProxyDeps } from '../proxy/index.js';

/*
 * The proxy asks, the policy answers: these adapters are the only place the two meet, so the
 * decision a test checks is the decision airlock enforces.
 */

/** The forward proxy's questions, answered by the policy (the proxy resolves and dials). */
export function forwardPolicy(policy: SandboxPolicy): ForwardProxyDeps {
  return {
    allowHost: (host, port) => evaluate(policy, { kind: 'forward', host, port, method: 'CONNECT' }).allow,
    isForbiddenAddress: (ip) => {
      const address = parseIpLiteral(ip);
      return address === null || classifyAddress(address).forbidden;
    },
  };
}

/**
 * The proxy's `authorize` hook for one sandbox: asks the policy about a reverse-route request
 * and maps its decision to the proxy's answer (allow with the exact normalized target the
 * policy checked, or refuse with the policy's status, type and message).
 */
export function createAuthorizer(
  policy: SandboxPolicy,
): (request: Pick<AuthorizeRequest, 'service' | 'method' | 'rawTarget'>) => AuthorizeDecision {
  return (req) => {
    const d = evaluate(policy, {
      kind: 'service',
      service: req.service,
      method: req.method,
      target: req.rawTarget,
    });
    if (d.allow) return { allow: true, path: d.target ?? '/' };
    return { allow: false, status: d.status, type: d.type, message: d.message };
  };
}
