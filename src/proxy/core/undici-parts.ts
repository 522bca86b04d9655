/**
 * undici's Agent and TLS connector without the rest of undici: `import 'undici'` also loads
 * fetch, WebSocket, cookies and the cache, ~70 ms of every CLI start, and the proxy needs none
 * of them, nor undici's `request()` API (upstream-response.ts dispatches with its own handler).
 */
import type { Dispatcher } from 'undici';
import type Agent from 'undici/lib/dispatcher/agent.js';
import buildConnector from 'undici/lib/core/connect.js';
import { ClientClosedError, RequestAbortedError } from 'undici/lib/core/errors.js';
import { parseHeaders } from 'undici/lib/core/util.js';

export { buildConnector, parseHeaders, RequestAbortedError };

/** What the proxy asks of a pool of upstream connections. */
export interface UpstreamDispatcher {
  dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): void;
  close(): Promise<void>;
}

let agentClass: typeof Agent | undefined;
let loading: Promise<void> | undefined;

/**
 * Loads undici's Agent with its pools, HTTP/1 and HTTP/2 clients and parser (~15 ms of CPU;
 * in the bundled executable `dist/bin/lazy-undici.cjs`, which takes this file's undici modules
 * rather than copies: scripts/bundle.mjs). `RunningProxy.warmUp` starts it once a guest has run
 * a while; otherwise the first request does.
 */
export function loadAgent(): Promise<void> {
  return (loading ??= import('undici/lib/dispatcher/agent.js').then((m) => {
    agentClass = m.default;
  }));
}

/** An undici Agent made at its first request (once `loadAgent` is done); the same options. */
export class LazyAgent implements UpstreamDispatcher {
  #options: Agent.Options;
  #agent: Agent | undefined;
  #closed = false;

  constructor(options: Agent.Options) {
    this.#options = options;
  }

  dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): void {
    if (this.#closed) {
      handler.onError?.(new ClientClosedError()); // as a closed Agent does
    } else if (agentClass === undefined) {
      loadAgent().then(
        () => this.dispatch(options, handler),
        (err: Error) => handler.onError?.(err),
      );
    } else {
      this.#agent ??= new agentClass(this.#options);
      this.#agent.dispatch(options, handler);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#agent?.close();
  }
}
