/**
 * The library: `import { Engine } from 'airlock'`. An engine hosts sandboxes in this process
 * (it needs root, like the CLI); each sandbox runs commands with placeholder keys and base
 * URLs, and its proxy swaps in the real keys and records every request. See docs/library.md.
 */
export { Engine, EngineSandbox, type EngineOptions, type ExecOutput } from './engine/engine.js';
export type { SandboxChange, SandboxSpec } from './engine/enforced-sandbox.js';
export { AirlockError, type ErrorCode } from './errors.js';
export { loadConfig, parseConfig, type AirlockConfigInput, type LoadedConfig } from './config/index.js';
export { resolveLimits, type Limits } from './config/limits.js';
export { openAuditQuery, type RequestFilter, type RequestRecord } from './audit/query.js';
export type { GuestCommandOptions, GuestProcess, GuestStdio } from './sandbox/guest-process.js';
