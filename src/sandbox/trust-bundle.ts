import { readFileSync, statSync } from 'node:fs';
import { SANDBOX_CA_PATH, TRUST_BUNDLE_PATH } from './guest-env.js';

/** The system's CA bundle on Debian, Ubuntu, Alpine and Arch (Fedora and RHEL keep a compatible copy here too). */
export const SYSTEM_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

/** the system bundle last read: one copy (~220 KB) for every sandbox, read again once the file changed */
let cached: { path: string; stamp: string; text: string } | undefined;
/** Node's built-in roots as one text, made once, for a system without a bundle */
let nodeRoots: string | undefined;

/** The system bundle's text, ending in a newline (Node's built-in roots where the system has none). */
function systemRoots(path: string): string {
  try {
    const s = statSync(path);
    const stamp = `${s.ino}:${s.size}:${s.mtimeMs}`;
    if (cached?.path === path && cached.stamp === stamp) return cached.text;
    const text = readFileSync(path, 'utf8');
    cached = { path, stamp, text: text.endsWith('\n') ? text : `${text}\n` };
    return cached.text;
  } catch {
    return (nodeRoots ??= `${process.getBuiltinModule('node:tls').rootCertificates.join('\n')}\n`);
  }
}

/**
 * The guest's trust files for a sandbox CA, each as the parts it is written from: the system
 * bundle plus the CA, and the CA alone. The system bundle is a part of its own, shared by every
 * sandbox rather than copied into each. Certificates only: no private key is ever here.
 */
export function trustFiles(caPem: string, systemBundle = SYSTEM_BUNDLE): Record<string, readonly string[]> {
  const ca = caPem.endsWith('\n') ? caPem : `${caPem}\n`;
  return { [TRUST_BUNDLE_PATH]: [systemRoots(systemBundle), ca], [SANDBOX_CA_PATH]: [ca] };
}
