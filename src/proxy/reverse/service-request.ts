import type { IncomingMessage } from 'node:http';
import type { RequestIntent } from '../../audit/sink.js';
import type { Service } from '../../catalogue/service.js';
import { AirlockError } from '../../errors.js';
import { evaluate } from '../../policy/index.js';
import type { ProxyContext } from '../core/context.js';
import { forwardableRequestHeaders, headerPairs, type HeaderPairs } from '../core/headers.js';
import { formatQuery, parseQuery, splitTarget, type QueryPart } from '../core/query.js';
import type { ReplyPort } from '../core/reply-port.js';
import type { ProxyDeps, ServiceCredential } from '../types.js';
import {
  credentialHeaderNames,
  findCredentialProblem,
  injectCredential,
  withoutCredentialParams,
} from './credentials.js';
import { createSecretScrubber, type SecretScrubber } from './scrubber.js';
import { sandboxSecretForms } from './secret-forms.js';

/**
 * Where one service request goes: the reverse route's `/proxy/<service><rest>`, a WebSocket
 * upgrade, or a request inside an intercepted tunnel, whose upstream is the tunnel's verified
 * CONNECT target.
 */
export interface ServiceRoute {
  /** the service's name ('' = none named) */
  service: string;
  /** the raw path and query relative to the service's upstream, undecoded, as the policy checks it */
  rawTarget: string;
  /** origin and base path to send it to (omitted = the service's `upstream`) */
  upstream?: URL;
}

/** What one sandbox's services look like to its routes, built once per set of deps. */
export interface ServiceTable {
  services: ReadonlyMap<string, Service>;
  /** each service's upstream, parsed */
  upstreams: ReadonlyMap<string, URL>;
  /** every form of every secret of the sandbox */
  scrubber: SecretScrubber;
}

const tables = new WeakMap<ProxyDeps, ServiceTable>();

/** The service table of these deps (a live change replaces the deps object, so the table follows). */
export function serviceTable(deps: ProxyDeps): ServiceTable {
  let table = tables.get(deps);
  if (!table) {
    table = {
      services: new Map(deps.services.map((s) => [s.name, s])),
      upstreams: new Map(deps.services.map((s) => [s.name, new URL(s.upstream)])),
      scrubber: createSecretScrubber(sandboxSecretForms(deps.services, deps.credentials)),
    };
    tables.set(deps, table);
  }
  return table;
}

/** A service request the policy allowed and whose credential (if any) is this sandbox's placeholder. */
export interface CheckedServiceRequest {
  service: Service;
  credential: ServiceCredential | undefined;
  upstream: URL;
  /** the audit row's fields so far (path = the normalized path that was checked) */
  base: Omit<RequestIntent, 'sandboxId'>;
  /** the exact normalized path+query that was checked */
  target: string;
  path: string;
  /** the endpoint rules with a rate that this request matched (omitted = none) */
  rated?: string[];
  guestHeaders: HeaderPairs;
  guestQuery: QueryPart[];
}

/**
 * The checks every request for a service passes, whatever carries it (the reverse route, a
 * WebSocket upgrade): the rate limit, `evaluate()` (service granted, path normalized, endpoint
 * rules), and the guest's credential headers and parameters (this sandbox's placeholder or
 * nothing). A refusal is answered and recorded here, and undefined returned.
 */
export function checkServiceRequest(
  ctx: ProxyContext,
  port: ReplyPort,
  req: IncomingMessage,
  route: ServiceRoute,
  startedAt: number,
): CheckedServiceRequest | undefined {
  const { deps, policy, refusals } = ctx;
  const { services, upstreams } = serviceTable(deps);
  const method = req.method ?? 'GET';
  const base: Omit<RequestIntent, 'sandboxId'> = {
    method,
    host: '',
    path: splitTarget(route.rawTarget)[0],
    startedAt,
  };
  if (!refusals.admit(port, base)) return undefined;

  const decision = evaluate(policy, {
    kind: 'service',
    service: route.service,
    method,
    target: route.rawTarget,
  });
  const service = services.get(route.service);
  const credential = deps.credentials[route.service];
  if (service) {
    // denials name the credential too: "what was tried with GITHUB_TOKEN" includes the refusals
    base.service = service.name;
    base.host = (route.upstream ?? upstreams.get(service.name)!).host;
    if (credential) base.credential = credential.envVar;
  }
  if (!decision.allow) {
    refusals.refuse(port, new AirlockError(decision.code, decision.message), base);
    return undefined;
  }
  if (!service) {
    const error = new AirlockError(
      'AIRLOCK_ERR_INTERNAL',
      `the policy grants "${route.service}" but the proxy has no upstream for it`,
    );
    refusals.refuse(port, error, base);
    return undefined;
  }
  const [path, rawQuery] = splitTarget(decision.target);
  base.path = path;

  const guestHeaders = headerPairs(req.rawHeaders);
  const guestQuery = parseQuery(rawQuery);
  const problem = findCredentialProblem(service, credential?.placeholder ?? '', guestHeaders, guestQuery);
  if (problem) {
    const message =
      `the ${problem.found} "${problem.name}" holds a credential that is not this sandbox's placeholder for ${service.name}; ` +
      `use the value of ${credential?.envVar ?? service.envVar} from the environment, or send none`;
    refusals.refuse(port, new AirlockError('AIRLOCK_ERR_WRONG_CREDENTIAL', message), base);
    return undefined;
  }
  const checked: CheckedServiceRequest = {
    service,
    credential,
    upstream: route.upstream ?? upstreams.get(service.name)!,
    base,
    target: decision.target,
    path,
    guestHeaders,
    guestQuery,
  };
  if (decision.rated) checked.rated = decision.rated;
  return checked;
}

/** The request as it goes upstream: headers and query with the real credential in, and the query for the audit row. */
export interface UpstreamRequestParts {
  headers: HeaderPairs;
  /** `?query` to append to the path ('' = none; `/a?` keeps its empty query marker) */
  search: string;
  /** the query with no credential parameter (never holds the real key; '' = none) */
  auditQuery: string;
}

/**
 * Hop-by-hop headers, the guest's credential headers and parameters and `alsoDrop` (lowercase
 * names) removed, then the real credential injected as the service's carrier says.
 */
export function upstreamRequestParts(
  checked: CheckedServiceRequest,
  alsoDrop: Iterable<string> = [],
): UpstreamRequestParts {
  const { service, credential } = checked;
  let headers = forwardableRequestHeaders(checked.guestHeaders, [
    ...credentialHeaderNames(service),
    ...alsoDrop,
  ]);
  let query = withoutCredentialParams(service, checked.guestQuery);
  const auditQuery = formatQuery(query); // before injection: never holds the real key
  if (credential) ({ headers, query } = injectCredential(service, credential.secret, headers, query));
  const finalQuery = formatQuery(query);
  // forward the target exactly as checked: `/a?` keeps its (empty) query marker
  const search = finalQuery || checked.target.includes('?') ? `?${finalQuery}` : '';
  return { headers, search, auditQuery };
}
