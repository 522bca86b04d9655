/**
 * undici's Agent and TLS connector without the rest of undici: `import 'undici'` also loads
 * fetch, WebSocket, cookies and the cache, ~70 ms of every CLI start, and the proxy needs none
 * of them. Dispatchers get `request()` and the other calls as undici's own index gives them.
 */
import api from 'undici/lib/api/index.js';
import Agent from 'undici/lib/dispatcher/agent.js';
import Dispatcher from 'undici/lib/dispatcher/dispatcher.js';
import buildConnector from 'undici/lib/core/connect.js';

Object.assign(Dispatcher.prototype, api);

export { Agent, buildConnector };
