/** The config module: schema, loader and credential sources. */
export { toService } from './custom-service.js';
export { airlockHome, DEFAULT_CONFIG_PATH, DEFAULT_HOME, DEFAULT_PROXY_PORT, ENV } from './env-vars.js';
export {
  configFileProblems,
  loadConfig,
  parseConfig,
  type LoadConfigOptions,
  type LoadedConfig,
} from './load-config.js';
export {
  ConfigSchema,
  DEFAULT_POOL,
  type AirlockConfig,
  type AirlockConfigInput,
  type CustomProfileConfig,
  type CustomServiceConfig,
} from './schema.js';
export {
  parseCredFlag,
  parseSecretSource,
  resolveSecretSource,
  type CredentialRequest,
  type ResolvedSecret,
  type ResolveOptions,
  type SecretSource,
} from './secret-source.js';
export { validateConfig } from './validate-config.js';
