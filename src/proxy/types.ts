import type { IncomingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AuditSink, LlmUsage } from '../audit/sink.js';
import type { Service } from '../catalogue/service.js';

/** A granted credential: the real value (memory only) and the guest's stand-in for it. */
export interface ServiceCredential {
  /** the variable naming it, e.g. OPENAI_API_KEY (recorded in the audit log; never the value) */
  envVar: string;
  /** the real value; lives only in this process's memory */
  secret: string;
  /** what the guest sees instead (see `makePlaceholder`) */
  placeholder: string;
}

/** What the injected policy hook is asked about one reverse-proxied request. */
export interface AuthorizeRequest {
  /** catalogue service name from `/proxy/<service>/…` */
  service: string;
  /** the request method token, exactly as received */
  method: string;
  /** the raw request target after `/proxy/<service>` (path and query, undecoded; may be empty) */
  rawTarget: string;
  headers: IncomingHttpHeaders;
}

/** The policy's answer; the proxy forwards exactly `path` (normalized path + query). */
export type AuthorizeDecision =
  { allow: true; path: string } | { allow: false; status: number; type: string; message: string };

/** Reads LLM usage from a response as it streams by (never buffering it all). */
export interface UsageReader {
  write(chunk: Buffer): void;
  end(): LlmUsage | undefined;
}

/** Time limits, all in `ms`. */
export interface ProxyTimeouts {
  /** TCP + TLS connect to the upstream (omitted = 10 s) */
  connect?: number;
  /** from sending the request to the upstream's response headers (omitted = 10 minutes: slow LLM first tokens) */
  headers?: number;
  /** idle time between two upstream body chunks (omitted = 5 minutes: quiet SSE streams) */
  bodyIdle?: number;
  /** the guest must send all request headers within this (omitted = 30 s; slowloris guard) */
  clientHeaders?: number;
  /** the guest must send the whole request, body included, within this (omitted = 15 minutes) */
  clientRequest?: number;
}

export interface ProxyLoggerOptions {
  /** pino level (omitted = 'info') */
  level?: string;
  /** where log lines go (omitted = stdout) */
  stream?: NodeJS.WritableStream;
}

/**
 * The forward proxy (`HTTP_PROXY`/`HTTPS_PROXY`: absolute-form HTTP and `CONNECT`) for hosts
 * without credentials. Every network decision is a hook, so tests inject a resolver and a
 * dialer and no packet can leave the machine.
 */
export interface ForwardProxyDeps {
  /** may the guest reach `host` (lowercase, no trailing dot) on `port` (the profiles decide) */
  allowHost(host: string, port: number): boolean;
  /** addresses never dialled unless the admin pinned the host in `resolve` (SSRF guard) */
  isForbiddenAddress(ip: string): boolean;
  /** every address of a hostname (omitted = the system resolver) */
  lookup?(hostname: string): Promise<string[]>;
  /** opens a TCP connection to a checked address (omitted = net.connect) */
  dial?(ip: string, port: number): Promise<Duplex>;
}

/** Everything one sandbox's proxy needs; the sandbox builds it (the proxy never imports sandbox/). */
export interface ProxyDeps {
  /** the sandbox this listener belongs to (its identity in the audit log) */
  sandboxId: string;
  /** the services this sandbox may use */
  services: readonly Service[];
  /** per granted service name */
  credentials: Readonly<Record<string, ServiceCredential>>;
  /** the policy hook: may this request go out, and which exact path */
  authorize(request: AuthorizeRequest): AuthorizeDecision;
  audit: AuditSink;
  /** hostname → IP to connect to instead of asking DNS; SNI and Host stay the hostname (like curl --resolve) */
  resolve?: Readonly<Record<string, string>>;
  /** extra PEM CA certificates trusted for upstreams, in addition to the system ones */
  upstreamCa?: readonly string[];
  /** extra PEM CAs trusted for one upstream hostname only (omitted = none) */
  hostCa?: Readonly<Record<string, readonly string[]>>;
  timeouts?: ProxyTimeouts;
  /** omitted = info to stdout */
  logger?: ProxyLoggerOptions;
  /** the forward proxy (omitted = absolute-form requests and CONNECT are refused) */
  forwardProxy?: ForwardProxyDeps;
  /** usage extraction hook (omitted or returning undefined = no usage recorded) */
  usageTap?(
    service: Service,
    responseHeaders: Readonly<Record<string, string | string[] | undefined>>,
  ): UsageReader | undefined;
}
