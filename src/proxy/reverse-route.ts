import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import type { AuditEntry, RequestIntent } from '../audit/sink.js';
import {
  credentialHeaderNames,
  findCredentialProblem,
  injectCredential,
  withoutCredentialParams,
} from './credentials.js';
import { recordDenial } from './audit-record.js';
import { forward } from './forward.js';
import { forwardableRequestHeaders, headerPairs } from './headers.js';
import { errorType, sendError } from './proxy-error.js';
import { formatQuery, parseQuery, splitTarget } from './query.js';
import type { SecretReplacement } from './scrubber.js';
import type { ProxyDeps } from './types.js';

export const REVERSE_PREFIX = '/proxy/';

/** `/proxy/<service><rest>` → its parts (rest undecoded, possibly empty); anything else → undefined. */
export function parseReverseTarget(url: string): { service: string; rawTarget: string } | undefined {
  if (!url.startsWith(REVERSE_PREFIX)) return undefined;
  const rest = url.slice(REVERSE_PREFIX.length);
  const end = rest.search(/[/?]/);
  const service = end < 0 ? rest : rest.slice(0, end);
  return service === '' ? undefined : { service, rawTarget: end < 0 ? '' : rest.slice(end) };
}

export interface ReverseRouteOptions {
  deps: ProxyDeps;
  dispatcher: Dispatcher;
  logger: Logger;
}

/**
 * The reverse route `/proxy/<service>/<path>`: policy, credential check, audit intent
 * (committed before anything leaves), header hygiene, injection, then `forward`.
 */
export function createReverseHandler(options: ReverseRouteOptions) {
  const { deps, dispatcher, logger } = options;
  const services = new Map(deps.services.map((s) => [s.name, s]));
  const replacements: SecretReplacement[] = Object.values(deps.credentials).map((c) => ({
    secret: c.secret,
    placeholder: c.placeholder,
  }));

  // fastify must wait for a streamed reply to end, hence `return reply` (an async handler resolving
  // to undefined while the stream is still starting would get an empty 200 written over it)
  return async function handleReverse(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    await proxyOne(request, reply);
    return reply;
  };

  async function proxyOne(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const startedAt = Date.now();
    const method = request.raw.method ?? 'GET';
    const target = parseReverseTarget(request.raw.url ?? '');
    const service = target ? services.get(target.service) : undefined;

    const refuse = (intent: Partial<RequestIntent>, status: number, type: string, message: string) => {
      recordDenial(
        deps.audit,
        logger,
        { sandboxId: deps.sandboxId, method, host: '', path: '', startedAt, ...intent },
        status,
        type,
      );
      sendError(reply, status, type, message);
    };

    if (!target || !service) {
      const name = target?.service ?? '';
      refuse(
        { path: splitTarget(target?.rawTarget ?? '')[0] },
        404,
        errorType('AIRLOCK_ERR_PROXY_UNKNOWN_SERVICE'),
        `no service named "${name.slice(0, 64)}" in this sandbox; known: ${[...services.keys()].join(', ') || 'none'}`,
      );
      return;
    }

    const upstream = new URL(service.upstream);
    const credential = deps.credentials[service.name];
    // denials name the credential too: "what was tried with GITHUB_TOKEN" includes the refusals
    const base = {
      service: service.name,
      host: upstream.host,
      ...(credential ? { credential: credential.envVar } : {}),
    };
    const decision = deps.authorize({
      service: service.name,
      method,
      rawTarget: target.rawTarget,
      headers: request.headers,
    });
    if (!decision.allow) {
      refuse(
        { ...base, path: splitTarget(target.rawTarget)[0] },
        decision.status,
        decision.type,
        decision.message,
      );
      return;
    }
    const [path, rawQuery] = splitTarget(decision.path);
    if (!path.startsWith('/')) {
      refuse(base, 400, errorType('AIRLOCK_ERR_PROXY_BAD_REQUEST'), 'the request path must start with /');
      return;
    }

    const guestHeaders = headerPairs(request.raw.rawHeaders);
    const guestQuery = parseQuery(rawQuery);
    const problem = findCredentialProblem(service, credential?.placeholder ?? '', guestHeaders, guestQuery);
    if (problem) {
      refuse(
        { ...base, path },
        403,
        errorType('AIRLOCK_ERR_PROXY_CREDENTIAL'),
        `the ${problem.found} "${problem.name}" holds a credential that is not this sandbox's placeholder for ${service.name}; ` +
          `use the value of ${credential?.envVar ?? service.envVar} from the environment, or send none`,
      );
      return;
    }

    let headers = forwardableRequestHeaders(guestHeaders, credentialHeaderNames(service));
    let query = withoutCredentialParams(service, guestQuery);
    const auditQuery = formatQuery(query); // before injection: never holds the real key
    if (credential) ({ headers, query } = injectCredential(service, credential.secret, headers, query));
    // identity, so the scrubber sees the bytes an echoed secret would be in
    headers.push(['host', upstream.host], ['accept-encoding', 'identity']);

    const intent: RequestIntent = { sandboxId: deps.sandboxId, ...base, method, path, startedAt };
    if (auditQuery) intent.query = auditQuery;
    let entry: AuditEntry;
    try {
      entry = await deps.audit.intent(intent);
    } catch (err) {
      logger.error({ err, service: service.name }, 'audit intent failed; request not forwarded');
      sendError(
        reply,
        503,
        errorType('AIRLOCK_ERR_PROXY_AUDIT'),
        'the audit log could not record this request, so it was not sent',
      );
      return;
    }

    const basePath = upstream.pathname.replace(/\/$/, '');
    const finalQuery = formatQuery(query);
    // forward the target exactly as checked: `/a?` keeps its (empty) query marker
    const querySuffix = finalQuery || decision.path.includes('?') ? `?${finalQuery}` : '';
    await forward(
      {
        dispatcher,
        replacements,
        usageTap: deps.usageTap?.bind(deps),
        logger,
        service,
        origin: upstream.origin,
        path: `${basePath}${path}${querySuffix}`,
        method,
        headers,
        incoming: request.raw,
        entry,
        startedAt,
      },
      reply,
    );
  }
}
