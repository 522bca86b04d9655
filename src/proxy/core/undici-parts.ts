/**
 * undici's Agent and TLS connector without the rest of undici: `import 'undici'` also loads
 * fetch, WebSocket, cookies and the cache, ~70 ms of every CLI start, and the proxy needs none
 * of them, nor undici's `request()` API (upstream-response.ts dispatches with its own handler).
 */
import Agent from 'undici/lib/dispatcher/agent.js';
import buildConnector from 'undici/lib/core/connect.js';
import { RequestAbortedError } from 'undici/lib/core/errors.js';
import { parseHeaders } from 'undici/lib/core/util.js';

export { Agent, buildConnector, parseHeaders, RequestAbortedError };
