import { isIP } from 'node:net';
import { AirlockError } from '../errors.js';
import { buildProxy, type ProxyUpdate } from './build-proxy.js';
import { loadAgent } from './core/undici-parts.js';
import type { ProxyDeps } from './types.js';

export interface ListenOptions {
  /** one concrete IP: the sandbox's gateway address (wildcards are refused) */
  host: string;
  /** TCP port (0 = any free port, for tests) */
  port: number;
}

export interface RunningProxy {
  /** the bound address, e.g. `10.209.0.1:9090` */
  address: { host: string; port: number };
  close(): Promise<void>;
  /** a live change of policy or credentials (see ProxyApp.update) */
  update(patch: ProxyUpdate): void;
  /**
   * Loads what the first request needs (undici's Agent: ~15 ms of CPU), so that request does
   * not wait for it; without a call, the first request loads it.
   */
  warmUp(): void;
}

const WILDCARDS = new Set(['0.0.0.0', '::', '0:0:0:0:0:0:0:0']);

/**
 * Listens on exactly one address. The listener is the sandbox's identity (only its guest can
 * reach its gateway), so binding a wildcard would let every sandbox, and the host, in.
 */
export async function startProxy(deps: ProxyDeps, listen: ListenOptions): Promise<RunningProxy> {
  if (isIP(listen.host) === 0 || WILDCARDS.has(listen.host)) {
    throw new AirlockError(
      'AIRLOCK_ERR_PROXY_LISTEN',
      `the proxy must listen on one IP address, not "${listen.host}"`,
    );
  }
  const app = buildProxy(deps);
  try {
    await new Promise<void>((resolve, reject) => {
      app.server.once('error', reject);
      app.server.listen({ host: listen.host, port: listen.port }, () => {
        app.server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await app.close();
    throw new AirlockError('AIRLOCK_ERR_PROXY_LISTEN', `cannot listen on ${listen.host}:${listen.port}`, {
      cause: err,
    });
  }
  const bound = app.server.address();
  const port = typeof bound === 'object' && bound ? bound.port : listen.port;
  return {
    address: { host: listen.host, port },
    close: () => app.close(),
    update: (patch) => app.update(patch),
    // a failure reaches the request that needs it
    warmUp: () => void loadAgent().catch(() => undefined),
  };
}
