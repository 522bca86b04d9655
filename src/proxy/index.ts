/** The proxy's public surface: what the sandbox (and tests) may use. */
export { buildProxy, type ProxyUpdate } from './build-proxy.js';
export { startProxy, type ListenOptions, type RunningProxy } from './start-proxy.js';
export { DEFAULT_LIMITS, DEFAULT_TIMEOUTS } from './core/defaults.js';
export { guestVariables, proxyVariables, reservedVariable } from './reverse/guest-variables.js';
export { makePlaceholder } from './reverse/placeholder.js';
export { createSandboxCa, type SandboxCa } from './intercept/sandbox-ca.js';
export { createSecretScrubber, type SecretScrubber } from './reverse/scrubber.js';
export { secretForms, type SecretReplacement } from './reverse/secret-forms.js';
export type {
  EgressOptions,
  InterceptOptions,
  InterceptScope,
  ProxyDeps,
  ProxyLimits,
  ProxyLoggerOptions,
  ProxyTimeouts,
  Refusal,
  RefusalListener,
  ServiceCredential,
  UsageReader,
} from './types.js';
