import { STATUS_CODES, type IncomingMessage } from 'node:http';
import { connect as netConnect, type Socket } from 'node:net';
import { pipeline, type Duplex } from 'node:stream';
import type { AuditEntry, RequestIntent } from '../../audit/sink.js';
import { AirlockError, errorType } from '../../errors.js';
import { errorAnswer } from '../core/answer.js';
import type { ProxyContext } from '../core/context.js';
import {
  commitIntent,
  counter,
  recordExchange,
  type ExchangeRecord,
  type SettleUsage,
} from '../core/exchange.js';
import { forwardableResponseHeaders, type HeaderPairs, type ResponseHeaders } from '../core/headers.js';
import { failOnBug, socketPort, type ReplyPort } from '../core/reply-port.js';
import { classifyUpstreamError } from '../core/upstream-error.js';
import { relayWebSocket, type WebSocketRelayEnd } from '../core/websocket-relay.js';
import { createBodyDecoder } from './decode-body.js';
import type { SecretScrubber } from './scrubber.js';
import {
  checkServiceRequest,
  serviceTable,
  upstreamRequestParts,
  type CheckedServiceRequest,
  type ServiceRoute,
} from './service-request.js';
import { upstreamTlsTarget } from './service-dispatcher.js';
import { refuseOverBudget } from './budget-meter.js';

/** The largest message either side may send, in bytes (16 MiB); a larger one closes the session with 1009. */
export const MAX_WEBSOCKET_MESSAGE_BYTES = 16 * 1024 * 1024;

/** Headers of one leg's handshake: each leg makes its own, so none crosses the proxy. */
const HANDSHAKE_HEADERS = [
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-extensions',
  'sec-websocket-protocol',
  'sec-websocket-accept',
];

const KEY = /^[+/0-9A-Za-z]{22}==$/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** The guest's offered subprotocols, or a reason the handshake is malformed. */
function readGuestHandshake(req: IncomingMessage): { protocols: string[] } | { problem: string } {
  if (req.method !== 'GET') return { problem: 'a WebSocket handshake must be a GET request' };
  if ((req.headers.upgrade ?? '').toLowerCase() !== 'websocket') {
    return {
      problem: 'only WebSocket upgrades are relayed (Upgrade: websocket); send this request without Upgrade',
    };
  }
  if (!KEY.test(req.headers['sec-websocket-key'] ?? '')) {
    return { problem: 'the WebSocket handshake has no valid Sec-WebSocket-Key' };
  }
  const version = req.headers['sec-websocket-version'];
  if (version !== '13' && version !== '8')
    return { problem: 'unsupported Sec-WebSocket-Version (13 is supported)' };
  const offered = req.headers['sec-websocket-protocol'];
  const protocols = offered === undefined ? [] : offered.split(',').map((p) => p.trim());
  if (protocols.some((p) => !TOKEN.test(p)) || new Set(protocols).size !== protocols.length) {
    return { problem: 'malformed Sec-WebSocket-Protocol' };
  }
  return { protocols };
}

/** Header pairs → the object `ws` takes, repeated names as arrays. */
function headerObject(pairs: HeaderPairs): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of pairs) {
    const n = name.toLowerCase();
    const had = out[n];
    out[n] = had === undefined ? value : [...(Array.isArray(had) ? had : [had]), value];
  }
  return out;
}

/** The upstream's response headers as `Name: value` lines, scrubbed (hop-by-hop, handshake and `alsoDrop` ones gone). */
function headerLines(headers: ResponseHeaders, scrubber: SecretScrubber, alsoDrop: string[] = []): string[] {
  const lines: string[] = [];
  for (const [name, value] of Object.entries(
    forwardableResponseHeaders(headers, [...HANDSHAKE_HEADERS, ...alsoDrop]),
  )) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value])
      lines.push(`${scrubber.name(name)}: ${scrubber.value(v)}`);
  }
  return lines;
}

/** Opens the upstream leg's connection: to the pinned address if any, TLS verified as for HTTP, within the connect time limit. */
function dialUpstream(ctx: ProxyContext, upstream: URL): Socket {
  const port = Number(upstream.port) || (upstream.protocol === 'https:' ? 443 : 80);
  let socket: Socket;
  if (upstream.protocol === 'https:') {
    const target = upstreamTlsTarget(ctx.deps, upstream.hostname);
    socket = process
      .getBuiltinModule('node:tls')
      .connect({ ...target, port, rejectUnauthorized: true, ALPNProtocols: ['http/1.1'] });
    socket.once('secureConnect', () => socket.setTimeout(0));
  } else {
    const resolve = ctx.deps.resolve ?? {};
    const host = Object.hasOwn(resolve, upstream.hostname) ? resolve[upstream.hostname]! : upstream.hostname;
    socket = netConnect({ host, port });
    socket.once('connect', () => socket.setTimeout(0));
  }
  socket.setTimeout(ctx.timeouts.connect, () =>
    socket.destroy(Object.assign(new Error('connect timed out'), { code: 'ETIMEDOUT' })),
  );
  return socket;
}

/**
 * A WebSocket upgrade for a service (`GET /proxy/<service>/…` with `Upgrade: websocket` on
 * the reverse route; an intercepted tunnel may call it too, with the service its host names):
 * the same checks as any request for that service (a GET on the path), the audit intent
 * committed, then the upstream handshake (TLS verified, `resolve` pins, the real credential
 * in its headers, no compression) and only once the upstream accepted, the guest's. Messages
 * are relayed whole both ways with backpressure; upstream text is scrubbed of every form of
 * the sandbox's secrets. An upstream that refuses the handshake is answered as HTTP, scrubbed.
 * One audit row per session: GET, the path, 101, payload bytes each way, the duration.
 */
export function handleWebSocketUpgrade(
  ctx: ProxyContext,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  route: ServiceRoute,
): void {
  const port = socketPort(socket, head);
  serveUpgrade(ctx, port, req, socket, route).catch(failOnBug(port, ctx.logger));
}

async function serveUpgrade(
  ctx: ProxyContext,
  port: ReplyPort,
  req: IncomingMessage,
  socket: Duplex,
  route: ServiceRoute,
): Promise<void> {
  const startedAt = Date.now();
  const checked = checkServiceRequest(ctx, port, req, route, startedAt);
  if (!checked) return;
  const { base, upstream, path } = checked;
  const handshake = readGuestHandshake(req);
  if ('problem' in handshake) {
    return ctx.refusals.refuse(port, new AirlockError('AIRLOCK_ERR_BAD_REQUEST', handshake.problem), base);
  }
  const { headers, search, auditQuery } = upstreamRequestParts(checked, HANDSHAKE_HEADERS);
  headers.push(['accept-encoding', 'identity']); // a refused handshake's body is scrubbed too
  const scheme = upstream.protocol === 'https:' ? 'wss:' : 'ws:';
  const target = `${upstream.pathname.replace(/\/$/, '')}${path}${search}`;
  const url = new URL(`${scheme}//${upstream.host}${target}`);
  if (url.pathname + url.search !== target) {
    // the policy checked these exact bytes: never let URL parsing change them
    const error = new AirlockError(
      'AIRLOCK_ERR_BAD_REQUEST',
      'the request target cannot be forwarded verbatim',
    );
    return ctx.refusals.refuse(port, error, base);
  }

  const settle = holdRequestBudget(ctx, port, checked);
  if (settle === null) return;

  const intent: RequestIntent = { sandboxId: ctx.deps.sandboxId, ...base };
  if (auditQuery) intent.query = auditQuery;
  const entry = await commitIntent(ctx, intent, port);
  if (!entry) return void settle?.(undefined);
  // loaded at the first upgrade: a proxy that relays none does not pay for it at start
  const { WebSocket, WebSocketServer } = await import('ws');
  const session = recordSession(ctx, intent, entry, settle);
  if (socket.destroyed) return session.outcome('error', 0, 'guest disconnected');

  const { scrubber } = serviceTable(ctx.deps);
  const upstreamWs = new WebSocket(url, handshake.protocols, {
    headers: headerObject(headers),
    perMessageDeflate: false, // never compressed: the scrubber must see the text
    followRedirects: false,
    maxPayload: MAX_WEBSOCKET_MESSAGE_BYTES,
    createConnection: () => dialUpstream(ctx, upstream),
  });
  /** waiting: the upstream handshake runs; answered: its refusal goes back as HTTP; relaying: both open */
  let state: 'waiting' | 'answered' | 'relaying' = 'waiting';
  let timedOut = false;
  const handshakeTimer = setTimeout(() => {
    timedOut = true;
    upstreamWs.terminate();
  }, ctx.timeouts.headers);
  socket.once('close', () => {
    if (state !== 'waiting') return;
    clearTimeout(handshakeTimer);
    upstreamWs.terminate();
    session.outcome('error', 0, 'guest disconnected');
  });
  upstreamWs.on('error', (err) => {
    if (state !== 'waiting') return;
    clearTimeout(handshakeTimer);
    const failure = timedOut
      ? classifyUpstreamError(Object.assign(err, { code: 'ETIMEDOUT' }), upstream.host)
      : classifyUpstreamError(err, upstream.host);
    session.outcome('error', failure.status ?? 502, errorType(failure.code));
    port.fail(errorAnswer(failure));
  });

  let extraHeaders: string[] = [];
  upstreamWs.once('upgrade', (response) => {
    session.answered();
    extraHeaders = headerLines(response.headers, scrubber);
  });
  upstreamWs.once('unexpected-response', (_request, response) => {
    clearTimeout(handshakeTimer);
    session.answered();
    if (socket.destroyed) {
      response.destroy();
      return session.outcome('error', response.statusCode ?? 0, 'guest disconnected');
    }
    state = 'answered';
    answerRefusal(response, socket, scrubber, session, upstream.host);
  });
  upstreamWs.once('open', () => {
    clearTimeout(handshakeTimer);
    state = 'relaying';
    const server = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload: MAX_WEBSOCKET_MESSAGE_BYTES,
      // the guest gets the subprotocol the upstream chose, and the upstream's other headers
      handleProtocols: () => upstreamWs.protocol || false,
    });
    server.once('headers', (lines: string[]) => lines.push(...extraHeaders));
    let relayed = false;
    server.handleUpgrade(req, socket, Buffer.alloc(0), (guestWs) => {
      relayed = true;
      relayWebSocket(
        guestWs,
        upstreamWs,
        { scrubText: (text) => scrubber.bytes(text), idleMs: ctx.timeouts.bodyIdle },
        (end) => session.ended(end, upstream.host),
      );
    });
    // handleUpgrade calls back at once, or not at all when the guest left during the upstream handshake
    if (!relayed) {
      upstreamWs.terminate();
      session.outcome('error', 101, 'guest disconnected');
    }
  });
}

/**
 * A session is one request to the sandbox's request budgets and endpoint-rule rates: held
 * before it goes out (refused 429 when none is left), settled when it ends. Token and cost
 * budgets do not see it (no usage is read from messages). Returns how to settle (undefined =
 * no budget applies) or null when refused.
 */
function holdRequestBudget(
  ctx: ProxyContext,
  port: ReplyPort,
  checked: CheckedServiceRequest,
): SettleUsage | undefined | null {
  const { budget } = ctx.deps;
  const { credential, rated, base } = checked;
  const scope = rated ? { llm: false, rated } : { llm: false };
  if (!budget || !credential || !budget.covers(credential.envVar, scope)) return undefined;
  const reservation = budget.reserve(credential.envVar, {}, scope);
  if ('reason' in reservation) {
    refuseOverBudget(ctx.refusals, port, reservation, base);
    return null;
  }
  return () => {
    budget.settle(reservation, undefined);
    return undefined;
  };
}

/** The upstream refused the handshake: its answer goes to the guest as HTTP, decoded and scrubbed, then the socket closes. */
function answerRefusal(
  response: IncomingMessage,
  socket: Duplex,
  scrubber: SecretScrubber,
  session: SessionRecord,
  host: string,
): void {
  const status = response.statusCode ?? 502;
  const decoders = createBodyDecoder(response.headers['content-encoding']);
  if (decoders === null) {
    response.destroy();
    const failure = new AirlockError(
      'AIRLOCK_ERR_UPSTREAM',
      `upstream ${host} answered with a content-encoding the proxy cannot inspect`,
    );
    session.outcome('error', 502, errorType(failure.code));
    return socketPort(socket).fail(errorAnswer(failure));
  }
  const lines = headerLines(response.headers, scrubber, ['content-length', 'content-encoding']);
  socket.write(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n${[...lines, 'connection: close'].map((l) => `${l}\r\n`).join('')}\r\n`,
  );
  pipeline(
    [response, ...(decoders ?? []), scrubber.stream(), counter((n) => (session.seen.bytesOut += n)), socket],
    (err) => session.outcome(err ? 'error' : 'allowed', status, err ? 'guest disconnected' : undefined),
  );
}

/** A WebSocket session's audit record: the exchange's, plus how a relay's end is written. */
interface SessionRecord extends ExchangeRecord {
  /** the upstream answered the handshake (the first time only) */
  answered: () => void;
  /** the relay ended: its counts and how */
  ended: (end: WebSocketRelayEnd, host: string) => void;
}

function recordSession(
  ctx: ProxyContext,
  intent: RequestIntent,
  entry: AuditEntry,
  settle: SettleUsage | undefined,
): SessionRecord {
  const record = recordExchange(ctx, intent, entry, settle);
  const { seen, outcome } = record;
  return {
    ...record,
    answered: () => void (seen.ttfbMs ??= Date.now() - intent.startedAt),
    ended: (end, host) => {
      seen.bytesIn = end.bytesIn;
      seen.bytesOut = end.bytesOut;
      if (end.upstreamError) {
        outcome('error', 101, errorType(classifyUpstreamError(end.upstreamError, host).code));
      } else outcome('allowed', 101, end.reason);
    },
  };
}
