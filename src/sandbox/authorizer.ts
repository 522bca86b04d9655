import { evaluate, type SandboxPolicy } from '../policy/index.js';
import type { AuthorizeDecision, AuthorizeRequest } from '../proxy/index.js';

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
