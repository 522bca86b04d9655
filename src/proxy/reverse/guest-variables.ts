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
  return env;
}

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
