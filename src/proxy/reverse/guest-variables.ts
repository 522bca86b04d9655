import type { Service } from '../../catalogue/service.js';
import type { ServiceCredential } from '../types.js';

/**
 * The variables a guest gets for its credentials: the credential variable and its aliases
 * hold the placeholder; each base-URL variable points at `<proxyBaseUrl>/proxy/<name><suffix>`.
 * A service without a granted credential gets only its base-URL variables.
 */
export function guestVariables(
  services: readonly Service[],
  credentials: Readonly<Record<string, Pick<ServiceCredential, 'placeholder'>>>,
  proxyBaseUrl: string,
): Record<string, string> {
  const base = proxyBaseUrl.replace(/\/+$/, '');
  const env: Record<string, string> = {};
  for (const service of services) {
    for (const variable of service.baseUrlVariables) {
      env[variable.name] = `${base}/proxy/${service.name}${variable.suffix ?? ''}`;
    }
    const credential = credentials[service.name];
    if (!credential) continue;
    for (const name of [service.envVar, ...service.aliases]) env[name] = credential.placeholder;
  }
  return { ...env, ...gitVariables(services, credentials, base) };
}

/**
 * git's url rewrites as command-scope config (`GIT_CONFIG_COUNT`, `GIT_CONFIG_KEY_<n>`,
 * `GIT_CONFIG_VALUE_<n>`): each `gitUrls` prefix of a service with a granted credential becomes
 * `url.<proxy>/proxy/<name>/.insteadOf`, which git applies to fetch and push URLs alike. The
 * count is always set, 0 when there is nothing to rewrite, so no other count can add config;
 * with a rewrite git is told never to prompt (the proxy supplies the credential).
 */
export function gitVariables(
  services: readonly Service[],
  credentials: Readonly<Record<string, unknown>>,
  proxyBaseUrl: string,
): Record<string, string> {
  const base = proxyBaseUrl.replace(/\/+$/, '');
  const pairs: [string, string][] = [];
  for (const service of services) {
    if (!credentials[service.name]) continue;
    for (const prefix of service.gitUrls ?? []) {
      pairs.push([`url.${base}/proxy/${service.name}/.insteadOf`, prefix]);
    }
  }
  const env: Record<string, string> = { GIT_CONFIG_COUNT: String(pairs.length) };
  pairs.forEach(([key, value], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = key;
    env[`GIT_CONFIG_VALUE_${i}`] = value;
  });
  if (pairs.length > 0) env.GIT_TERMINAL_PROMPT = '0';
  return env;
}

/** git's command-scope config variables, which airlock sets (see `gitVariables`). */
const GIT_CONFIG_VARIABLE = /^GIT_CONFIG_(?:COUNT|KEY_\d+|VALUE_\d+)$/;

/**
 * The forward-proxy variables, upper and lower case (tools read either): everything goes
 * through the proxy except the proxy itself, so base-URL calls stay direct.
 */
export function proxyVariables(proxyBaseUrl: string): Record<string, string> {
  const url = proxyBaseUrl.replace(/\/+$/, '');
  const host = new URL(url).hostname;
  return {
    HTTP_PROXY: url,
    HTTPS_PROXY: url,
    http_proxy: url,
    https_proxy: url,
    NO_PROXY: host,
    no_proxy: host,
  };
}

/** The forward-proxy variables tools read, in lower case (`ALL_PROXY` too, which airlock leaves unset). */
const PROXY_VARIABLE_NAMES = new Set(['http_proxy', 'https_proxy', 'no_proxy', 'all_proxy']);

/**
 * Why a variable is airlock's to set in a guest, or undefined when a caller may set it: a
 * granted credential's variables (the guest gets placeholders there), any base-URL variable,
 * a proxy variable in any case, and AIRLOCK_*. A caller's value there would either be
 * overwritten or send the guest's traffic around the proxy.
 */
export function reservedVariable(
  name: string,
  granted: readonly Service[],
  services: readonly Service[],
): string | undefined {
  if (name.startsWith('AIRLOCK_')) return 'AIRLOCK_* variables are set by airlock';
  if (GIT_CONFIG_VARIABLE.test(name)) return "it carries git's url rewrites to the proxy";
  if (PROXY_VARIABLE_NAMES.has(name.toLowerCase()))
    return 'the guest reaches the network only through its proxy';
  const credential = granted.find((s) => s.envVar === name || s.aliases.includes(name));
  if (credential) return `it holds the placeholder of the granted credential of service "${credential.name}"`;
  const base = services.find((s) => s.baseUrlVariables.some((v) => v.name === name));
  if (base) return `it points service "${base.name}" at the proxy`;
  return undefined;
}
