import { readFileSync } from 'node:fs';
import { SANDBOX_CA_PATH, TRUST_BUNDLE_PATH } from './guest-env.js';

/** The system's CA bundle on Debian, Ubuntu, Alpine and Arch (Fedora and RHEL keep a compatible copy here too). */
export const SYSTEM_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

/**
 * The guest's trust files for a sandbox CA: the system bundle (Node's built-in roots where the
 * system has none) plus the CA, and the CA alone. Certificates only: no private key is ever here.
 */
export function trustFiles(caPem: string, systemBundle = SYSTEM_BUNDLE): Record<string, string> {
  let system: string;
  try {
    system = readFileSync(systemBundle, 'utf8');
  } catch {
    system = process.getBuiltinModule('node:tls').rootCertificates.join('\n');
  }
  const ca = caPem.endsWith('\n') ? caPem : `${caPem}\n`;
  return {
    [TRUST_BUNDLE_PATH]: `${system.endsWith('\n') ? system : `${system}\n`}${ca}`,
    [SANDBOX_CA_PATH]: ca,
  };
}
