/** The policy module: pure data and decisions, no I/O. */
export {
  classifyAddress,
  isReachableClass,
  TEST_CATEGORIES,
  type AddressCategory,
  type AddressClass,
} from './address-class.js';
export {
  hostHeaderMatches,
  parseAbsoluteTarget,
  parseAuthority,
  parseConnectTarget,
  type AuthorityResult,
  type ForwardTarget,
  type TargetResult,
} from './authority.js';
export {
  globMatches,
  parseEndpointFlag,
  parseEndpointRule,
  ruleMatches,
  type EndpointRule,
  type FlagRuleResult,
  type GlobSegment,
  type RuleResult,
} from './endpoint-rules.js';
export {
  evaluate,
  FORWARD_PORTS,
  type Decision,
  type Denial,
  type DenialCode,
  type ForwardAllowed,
  type ForwardRequest,
  type PolicyRequest,
  type ServiceAllowed,
  type ServiceRequest,
} from './evaluate.js';
export {
  formatHostPattern,
  hostMatches,
  normalizeHost,
  parseHostPattern,
  type HostPattern,
  type HostResult,
  type PatternResult,
} from './host.js';
export {
  endsInNumber,
  formatIp,
  parseIPv4Loose,
  parseIPv6,
  parseIpLiteral,
  type IpAddress,
} from './ip-address.js';
export { formatIssuePath, type PolicyIssue } from './issues.js';
export { isMethodToken, isStandardMethod, METHOD_OVERRIDE_HEADERS, STANDARD_METHODS } from './method.js';
export {
  MAX_TARGET_LENGTH,
  normalizeTarget,
  SERVICE_NAME,
  splitProxyTarget,
  type NormalizedTarget,
  type ProxyTarget,
} from './path.js';
export { PROFILE_NAME, validateEndpoints, validateProfiles } from './profile-validation.js';
export {
  GITHUB_HOSTS,
  OPEN_WARNING,
  PRESET_PROFILES,
  presetHosts,
  presetProfile,
  type PresetProfile,
  type ProfileDefinition,
} from './profiles.js';
export {
  pathGlob,
  proposeProfile,
  type LearnedHost,
  type LearnedRule,
  type Proposal,
  type RefusedSeen,
  type SeenRequest,
} from './learn-rules.js';
export {
  createSandboxPolicy,
  LEARN_WARNING,
  type SandboxPolicy,
  type SandboxPolicyOptions,
  type ServicePolicy,
} from './sandbox-policy.js';
