import type { IncomingMessage } from 'node:http';
import { Transform } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { LlmUsage, RequestIntent } from '../../audit/sink.js';
import { readAsk } from '../../budget/index.js';
import type { Service } from '../../catalogue/service.js';
import { AirlockError } from '../../errors.js';
import { evaluate } from '../../policy/index.js';
import type { ProxyContext } from '../core/context.js';
import type { UpstreamAnswer } from '../core/exchange.js';
import { runExchange, type SettleUsage } from '../core/exchange.js';
import { forwardableRequestHeaders, forwardableResponseHeaders, headerPairs } from '../core/headers.js';
import { createHttpLeg } from '../core/http-leg.js';
import { formatQuery, parseQuery, splitTarget } from '../core/query.js';
import type { ReplyPort } from '../core/reply-port.js';
import type { UsageReader } from '../types.js';
import {
  credentialHeaderNames,
  findCredentialProblem,
  injectCredential,
  withoutCredentialParams,
} from './credentials.js';
import { createBudgetMeter, peekBody, type BudgetMeter, type PeekedBody } from './budget-meter.js';
import { createBodyDecoder } from './decode-body.js';
import { createSecretScrubber } from './scrubber.js';
import { sandboxSecretForms } from './secret-forms.js';

export const REVERSE_PREFIX = '/proxy/';

/** `/proxy/<service><rest>` → its parts (rest undecoded, possibly empty); anything else → undefined. */
export function parseReverseTarget(url: string): { service: string; rawTarget: string } | undefined {
  if (!url.startsWith(REVERSE_PREFIX)) return undefined;
  const rest = url.slice(REVERSE_PREFIX.length);
  const end = rest.search(/[/?]/);
  const service = end < 0 ? rest : rest.slice(0, end);
  return service === '' ? undefined : { service, rawTarget: end < 0 ? '' : rest.slice(end) };
}

/**
 * Where one service request goes: the reverse route's `/proxy/<service><rest>`, or a request
 * inside an intercepted tunnel, whose upstream is the tunnel's verified CONNECT target.
 */
export interface ServiceRoute {
  /** the service's name ('' = none named) */
  service: string;
  /** '' or `/path[?query]` below the upstream's base path, undecoded: what the policy checks */
  rawTarget: string;
  /** origin and base path to send it to (omitted = the service's `upstream`) */
  upstream?: URL;
}

/** One sandbox's service exchange: the reverse route, and the entry other transports share. */
export interface ServiceExchange {
  /** the reverse route (`/proxy/<service>/…`) */
  serve(port: ReplyPort, req: IncomingMessage): Promise<void>;
  /** a request for a service by any transport: policy, credential check, injection, scrubbing, usage, budgets, audit */
  serveService(port: ReplyPort, req: IncomingMessage, route: ServiceRoute): Promise<void>;
}

/** Feeds the bytes that pass to a usage reader, holding none. */
function usageTap(usage: UsageReader): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      try {
        usage.write(chunk);
      } catch {
        // a usage parser must never break the stream it watches
      }
      callback(null, chunk);
    },
  });
}

/** Statuses and methods whose responses have no body, so Content-Length keeps its meaning. */
function hasNoBody(method: string, status: number): boolean {
  return method === 'HEAD' || status === 204 || status === 304 || (status >= 100 && status < 200);
}

/**
 * The reverse route `/proxy/<service>/<path>`: the policy decides, the guest's credential must
 * be this sandbox's placeholder, then hop-by-hop and credential headers go, the real
 * credential goes in, and the exchange runs. The upstream's answer is decoded (compression
 * cannot hide an echo) and every form of every secret in it becomes its placeholder form.
 */
export function createReverseRoute(ctx: ProxyContext): ServiceExchange {
  const { deps, policy, refusals } = ctx;
  const services = new Map(deps.services.map((s) => [s.name, s]));
  // parsed once per sandbox, not per request
  const upstreams = new Map(deps.services.map((s) => [s.name, new URL(s.upstream)]));
  const scrubber = createSecretScrubber(sandboxSecretForms(deps.services, deps.credentials));
  const budget = deps.budget;
  // an LLM call no budget covers still counts toward the sandbox's spend (one function per sandbox)
  const spendOnly: SettleUsage | undefined = budget
    ? (usage: LlmUsage | undefined) => {
        budget.settle(undefined, usage);
        return undefined;
      }
    : undefined;

  /** The upstream's response as the guest gets it: decoded, scrubbed, usage read on the way. */
  function shape(
    service: Service,
    response: Dispatcher.ResponseData,
    method: string,
    meter: BudgetMeter | undefined,
  ): UpstreamAnswer {
    const { host } = upstreams.get(service.name)!;
    const decoders = createBodyDecoder(response.headers['content-encoding']);
    if (decoders === null) {
      response.body.destroy();
      throw new AirlockError(
        'AIRLOCK_ERR_UPSTREAM',
        `upstream ${host} answered with a content-encoding the proxy cannot inspect`,
      );
    }
    // the scrubber may change the body's length, and decoding always does
    const drop = [
      ...(hasNoBody(method, response.statusCode) ? [] : ['content-length']),
      ...(decoders ? ['content-encoding'] : []),
    ];
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(forwardableResponseHeaders(response.headers, drop))) {
      if (value !== undefined) headers[scrubber.name(name)] = scrubber.value(value);
    }
    let usage: UsageReader | undefined;
    try {
      usage = deps.usageTap?.(service, headers, meter?.onEvent);
    } catch (err) {
      ctx.logger.error({ err, service: service.name }, 'usage tap failed; usage not recorded');
    }
    const through = [...(decoders ?? []), scrubber.stream()];
    if (meter) meter.upstream = response.body;
    if (usage) through.push(meter ? meter.stream(usage) : usageTap(usage));
    return {
      status: response.statusCode,
      headers,
      body: response.body,
      through,
      usage: () => usage?.end(),
    };
  }

  /** The reverse route: `/proxy/<service><rest>`. */
  function serve(port: ReplyPort, req: IncomingMessage): Promise<void> {
    const url = req.url ?? '';
    return serveService(
      port,
      req,
      parseReverseTarget(url) ?? { service: '', rawTarget: url.slice(REVERSE_PREFIX.length) },
    );
  }

  /** One request for a service, by whichever transport it came (see ServiceRoute). */
  async function serveService(port: ReplyPort, req: IncomingMessage, target: ServiceRoute): Promise<void> {
    const startedAt = Date.now();
    const method = req.method ?? 'GET';
    const base: Omit<RequestIntent, 'sandboxId'> = {
      method,
      host: '',
      path: splitTarget(target.rawTarget)[0],
      startedAt,
    };
    if (!refusals.admit(port, base)) return;

    const decision = evaluate(policy, {
      kind: 'service',
      service: target.service,
      method,
      target: target.rawTarget,
    });
    const service = services.get(target.service);
    const credential = deps.credentials[target.service];
    if (service) {
      // denials name the credential too: "what was tried with GITHUB_TOKEN" includes the refusals
      base.service = service.name;
      base.host = (target.upstream ?? upstreams.get(service.name)!).host;
      if (credential) base.credential = credential.envVar;
    }
    if (!decision.allow)
      return refusals.refuse(port, new AirlockError(decision.code, decision.message), base);
    if (!service) {
      const error = new AirlockError(
        'AIRLOCK_ERR_INTERNAL',
        `the policy grants "${target.service}" but the proxy has no upstream for it`,
      );
      return refusals.refuse(port, error, base);
    }
    const upstream = target.upstream ?? upstreams.get(service.name)!;
    const [path, rawQuery] = splitTarget(decision.target);
    base.path = path;

    const guestHeaders = headerPairs(req.rawHeaders);
    const guestQuery = parseQuery(rawQuery);
    const problem = findCredentialProblem(service, credential?.placeholder ?? '', guestHeaders, guestQuery);
    if (problem) {
      const message =
        `the ${problem.found} "${problem.name}" holds a credential that is not this sandbox's placeholder for ${service.name}; ` +
        `use the value of ${credential?.envVar ?? service.envVar} from the environment, or send none`;
      return refusals.refuse(port, new AirlockError('AIRLOCK_ERR_WRONG_CREDENTIAL', message), base);
    }

    // a budgeted LLM call holds what it may use before it goes out, or is refused
    let meter: BudgetMeter | undefined;
    let exchangePort = port;
    if (budget && credential && service.usageFormat && budget.covers(credential.envVar)) {
      let peeked: PeekedBody | undefined;
      try {
        peeked = port.body ? await peekBody(port.body) : undefined;
      } catch {
        return; // the guest went away while sending its request: nothing went out
      }
      const reservation = budget.reserve(
        credential.envVar,
        readAsk(peeked?.complete ? peeked.head : undefined, path),
      );
      if (typeof reservation === 'string') {
        return refusals.refuse(port, new AirlockError('AIRLOCK_ERR_BUDGET_EXHAUSTED', reservation), base);
      }
      meter = createBudgetMeter(budget, reservation);
      if (peeked) exchangePort = { ...port, body: peeked.body };
    }

    let headers = forwardableRequestHeaders(guestHeaders, credentialHeaderNames(service));
    let query = withoutCredentialParams(service, guestQuery);
    const auditQuery = formatQuery(query); // before injection: never holds the real key
    if (credential) ({ headers, query } = injectCredential(service, credential.secret, headers, query));
    // identity, so the scrubber sees the bytes an echoed secret would be in
    headers.push(['host', upstream.host], ['accept-encoding', 'identity']);

    const intent: RequestIntent = { sandboxId: deps.sandboxId, ...base };
    if (auditQuery) intent.query = auditQuery;
    const finalQuery = formatQuery(query);
    // forward the target exactly as checked: `/a?` keeps its (empty) query marker
    const querySuffix = finalQuery || decision.target.includes('?') ? `?${finalQuery}` : '';
    const leg = createHttpLeg({
      dispatcher: ctx.serviceDispatcher,
      origin: upstream.origin,
      path: `${upstream.pathname.replace(/\/$/, '')}${path}${querySuffix}`,
      method,
      headers,
      host: upstream.host,
      shape: (response, m) => shape(service, response, m, meter),
    });
    const settle = meter ? meter.settle : service.usageFormat ? spendOnly : undefined;
    await runExchange(ctx, intent, exchangePort, leg, settle);
  }

  return { serve, serveService };
}
