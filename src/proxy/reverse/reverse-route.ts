import type { IncomingMessage } from 'node:http';
import { Transform } from 'node:stream';
import type { LlmUsage, RequestIntent } from '../../audit/sink.js';
import { readAsk } from '../../budget/index.js';
import type { Service } from '../../catalogue/service.js';
import { AirlockError } from '../../errors.js';
import type { ProxyContext } from '../core/context.js';
import type { UpstreamAnswer } from '../core/exchange.js';
import { runExchange, SMALL_BODY_BYTES, type SettleUsage } from '../core/exchange.js';
import { forwardableResponseHeaders } from '../core/headers.js';
import { forGitClient } from '../core/git-client.js';
import { createHttpLeg } from '../core/http-leg.js';
import type { UpstreamResponse } from '../core/upstream-response.js';
import type { ReplyPort } from '../core/reply-port.js';
import type { UsageReader } from '../types.js';
import {
  createBudgetMeter,
  peekBody,
  refuseOverBudget,
  type BudgetMeter,
  type PeekedBody,
} from './budget-meter.js';
import { createBodyDecoder } from './decode-body.js';
import {
  checkServiceRequest,
  serviceTable,
  upstreamRequestParts,
  type ServiceRoute,
} from './service-request.js';

export type { ServiceRoute };

export const REVERSE_PREFIX = '/proxy/';

/** `/proxy/<service><rest>` → its parts (rest undecoded, possibly empty); anything else → undefined. */
export function parseReverseTarget(url: string): { service: string; rawTarget: string } | undefined {
  if (!url.startsWith(REVERSE_PREFIX)) return undefined;
  const rest = url.slice(REVERSE_PREFIX.length);
  const end = rest.search(/[/?]/);
  const service = end < 0 ? rest : rest.slice(0, end);
  return service === '' ? undefined : { service, rawTarget: end < 0 ? '' : rest.slice(end) };
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
  const { deps, refusals } = ctx;
  // parsed once per sandbox, not per request
  const { upstreams, scrubber } = serviceTable(deps);
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
    response: UpstreamResponse,
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
    if (meter) meter.upstream = response.body;
    const length = Number(response.headers['content-length'] ?? NaN);
    // a compressed body's decoded length is unknown: only identity bodies are held whole
    if (!decoders && !hasNoBody(method, response.statusCode) && length <= SMALL_BODY_BYTES) {
      return {
        status: response.statusCode,
        headers,
        body: response.body,
        whole: (body) => {
          const out = scrubber.bytes(body);
          try {
            usage?.write(out);
          } catch {
            // a usage parser must never break the answer it watches
          }
          return out;
        },
        usage: () => usage?.end(),
      };
    }
    const through = [...(decoders ?? []), scrubber.stream()];
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
    port = forGitClient(port, req.headers['user-agent']); // git shows only text/plain refusals
    const checked = checkServiceRequest(ctx, port, req, target, startedAt);
    if (!checked) return;
    const { service, credential, upstream, base, path } = checked;
    const method = base.method;

    // a budgeted call (an LLM call under a token or cost budget, or any call under a request
    // budget or an endpoint rule's rate) holds what it may use before it goes out, or is refused
    let meter: BudgetMeter | undefined;
    let exchangePort = port;
    const scope = { llm: service.usageFormat !== undefined, rated: checked.rated };
    if (budget && credential && budget.covers(credential.envVar, scope)) {
      let peeked: PeekedBody | undefined;
      try {
        peeked = port.body && scope.llm ? await peekBody(port.body) : undefined;
      } catch {
        return; // the guest went away while sending its request: nothing went out
      }
      const reservation = budget.reserve(
        credential.envVar,
        readAsk(peeked?.complete ? peeked.head : undefined, path),
        scope,
      );
      if ('reason' in reservation) return refuseOverBudget(refusals, port, reservation, base);
      meter = createBudgetMeter(budget, reservation);
      if (peeked) exchangePort = { ...port, body: peeked.body };
    }

    const { headers, search, auditQuery } = upstreamRequestParts(checked);
    // identity, so the scrubber sees the bytes an echoed secret would be in
    headers.push(['host', upstream.host], ['accept-encoding', 'identity']);

    const intent: RequestIntent = { sandboxId: deps.sandboxId, ...base };
    if (auditQuery) intent.query = auditQuery;
    const leg = createHttpLeg({
      dispatcher: ctx.serviceDispatcher,
      origin: upstream.origin,
      path: `${upstream.pathname.replace(/\/$/, '')}${path}${search}`,
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
