import type { Socket } from 'node:net';
import type { AuditSink, LlmUsage } from '../audit/sink.js';
import type { Service } from '../catalogue/service.js';
import type { SandboxPolicy } from '../policy/index.js';
import type { BudgetLedger } from '../budget/index.js';
import type { AirlockError } from '../errors.js';
import type { SandboxCa } from './intercept/sandbox-ca.js';
import type { ProxyLoggerOptions } from './core/logger.js';

export type { ProxyLoggerOptions };

/** A granted credential: the real value (memory only) and the guest's stand-in for it. */
export interface ServiceCredential {
  /** the variable naming it, e.g. OPENAI_API_KEY (recorded in the audit log; never the value) */
  envVar: string;
  /** the real value; lives only in this process's memory */
  secret: string;
  /** what the guest sees instead (see `makePlaceholder`) */
  placeholder: string;
}

/** Reads LLM usage from a response as it streams by (never buffering it all). */
export interface UsageReader {
  /** returns where in `chunk` the reader stopped the stream (see `onEvent`), else undefined */
  write(chunk: Buffer): number | undefined;
  end(): LlmUsage | undefined;
}

/** Time limits, all in `ms`. */
export interface ProxyTimeouts {
  /** TCP + TLS connect to the upstream (omitted = 10 s) */
  connect?: number;
  /** from sending the request to the upstream's response headers (omitted = 10 minutes: reasoning models think before the headers) */
  headers?: number;
  /** idle time between two upstream body chunks, or in a tunnel (omitted = 10 minutes: quiet SSE streams) */
  bodyIdle?: number;
  /** the guest must send all request headers within this (omitted = 30 s; slowloris guard) */
  clientHeaders?: number;
  /** the guest must send the whole request, body included, within this (omitted = 15 minutes) */
  clientRequest?: number;
}

/** Per-sandbox rates (token buckets: a sustained rate per second and a burst); 0 = no limit. */
export interface ProxyLimits {
  /** requests per second, of any kind; past it the guest gets 429 (omitted = 500) */
  requestsPerSecond?: number;
  /** requests at once above the rate (omitted = 1000) */
  requestBurst?: number;
  /** refused requests recorded one row each per second; past it a refusal is answered 429 and folded into one row per second (omitted = 10) */
  refusalsPerSecond?: number;
  /** refusals recorded one row each at once above the rate (omitted = 100) */
  refusalBurst?: number;
  /**
   * connections the guest may hold open to its proxy at once, tunnels and WebSockets included;
   * past it a new one is closed as soon as it is accepted (omitted = 1024): each holds a file
   * descriptor of the engine that serves every sandbox
   */
  connections?: number;
}

/**
 * Where the forward proxy (`HTTP_PROXY`/`HTTPS_PROXY`) may connect. It never connects to this
 * host's own addresses, the sandbox pool, or a loopback, private, link-local or other internal
 * address, unless the admin pinned that host in `resolve`.
 */
export interface EgressOptions {
  /** let the forward proxy reach the documentation and benchmark ranges (test benches; omitted = false) */
  allowTestRanges?: boolean;
  /** the sandbox address pool, an IPv4 CIDR; never dialled (omitted = only the address classes apply) */
  pool?: string;
  /** every address of a hostname (tests; omitted = the system resolver) */
  lookup?: (hostname: string) => Promise<string[]>;
  /** opens a TCP connection to a checked address (tests; omitted = net.connect) */
  dial?: (ip: string, port: number) => Promise<Socket>;
  /** the host's own addresses (tests; omitted = every interface address, read at each check) */
  localAddresses?: () => string[];
}

/** Which allowed CONNECTs the proxy terminates with the sandbox CA's leaves. */
export type InterceptScope = 'credentials' | 'all';

/** TLS interception: the sandbox's CA, and which tunnels it opens. */
export interface InterceptOptions {
  /** the sandbox's certificate authority (its key only in this process's memory) */
  ca: SandboxCa;
  /** `credentials`: the hosts of granted credentials only; `all`: every allowed host too (omitted = credentials) */
  scope?: InterceptScope;
}

/** Everything one sandbox's proxy needs; the sandbox builds it (the proxy never imports sandbox/). */
export interface ProxyDeps {
  /** the sandbox this listener belongs to (its identity in the audit log) */
  sandboxId: string;
  /** the sandbox's composed policy: every request, reverse or forward, is decided by `evaluate` */
  policy: SandboxPolicy;
  /** the upstreams of the services the policy grants, by name */
  services: readonly Service[];
  /** per granted service name */
  credentials: Readonly<Record<string, ServiceCredential>>;
  audit: AuditSink;
  /** hostname → IP to connect to instead of asking DNS; SNI and Host stay the hostname (like curl --resolve) */
  resolve?: Readonly<Record<string, string>>;
  /** extra PEM CA certificates trusted for upstreams, in addition to the system ones */
  upstreamCa?: readonly string[];
  /** extra PEM CAs trusted for one upstream hostname only (omitted = none) */
  hostCa?: Readonly<Record<string, readonly string[]>>;
  timeouts?: ProxyTimeouts;
  limits?: ProxyLimits;
  egress?: EgressOptions;
  /** omitted = info to stdout */
  logger?: ProxyLoggerOptions;
  /** told of each refusal recorded in a row of its own (e.g. `airlock run` shows them live) */
  onRefusal?: RefusalListener;
  /**
   * usage extraction hook (omitted or returning undefined = no usage recorded); `onEvent` is told
   * after each SSE event with the usage so far, and stops the stream by returning false
   */
  usageTap?(
    service: Service,
    responseHeaders: Readonly<Record<string, string | string[] | undefined>>,
    onEvent?: (usage: LlmUsage) => boolean,
  ): UsageReader | undefined;
  /** the sandbox's token and cost budgets, and its LLM spend (omitted = none kept) */
  budget?: BudgetLedger;
  /**
   * TLS interception of CONNECTs (omitted = none: a CONNECT to a credential's host is refused,
   * the base URL is the only way to the credential, and every tunnel is opaque)
   */
  intercept?: InterceptOptions;
}

/** A refusal as shown to people: what was asked, the answer, and why (never a secret value). */
export interface Refusal {
  method: string;
  host: string;
  path: string;
  status: number;
  code: AirlockError['code'];
  message: string;
}

export type RefusalListener = (refusal: Refusal) => void;
