/** The proxy's public surface: what the sandbox (and tests) may use. */
export { buildProxy, DEFAULT_TIMEOUTS } from './build-proxy.js';
export { startProxy, type ListenOptions, type RunningProxy } from './start-proxy.js';
export { guestVariables, proxyVariables } from './guest-variables.js';
export { makePlaceholder } from './placeholder.js';
export { createSecretScrubber, type SecretReplacement } from './scrubber.js';
export type {
  AuthorizeDecision,
  AuthorizeRequest,
  ForwardProxyDeps,
  ProxyDeps,
  ProxyLoggerOptions,
  ProxyTimeouts,
  ServiceCredential,
  UsageReader,
} from './types.js';
