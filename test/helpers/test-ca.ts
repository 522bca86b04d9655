import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface IssuedCert {
  /** PEM private key */
  key: string;
  /** PEM leaf certificate */
  cert: string;
}

export interface TestCa {
  /** the CA certificate, PEM */
  caPem: string;
  /** a file holding `caPem` (for tools that take a path, e.g. curl --cacert) */
  caFile: string;
  /** a server certificate for these DNS names and/or IPs, signed by this CA */
  issue(hostnames: string[]): IssuedCert;
  /** removes the temp dir (also registered with `t.after` when a context is given) */
  cleanup(): void;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/**
 * A throwaway certificate authority made with the `openssl` CLI in a temp dir: the test
 * bench's TLS servers present certificates for the services' real hostnames, and the proxy
 * trusts them through `upstreamCa` only.
 */
export function createTestCa(t?: { after(fn: () => void): void }): TestCa {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-test-ca-'));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  t?.after(cleanup);
  openssl(dir, [
    'req', '-x509', ...EC_KEY, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2',
    '-subj', '/CN=airlock test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]); // prettier-ignore
  const caFile = join(dir, 'ca.pem');
  let serial = 0;
  return {
    caPem: readFileSync(caFile, 'utf8'),
    caFile,
    cleanup,
    issue(hostnames) {
      const n = ++serial;
      const san = hostnames.map((h) => (isIP(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
      writeFileSync(
        join(dir, `leaf${n}.ext`),
        `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature\n`,
      );
      openssl(dir, ['req', ...EC_KEY, '-keyout', `leaf${n}.key`, '-out', `leaf${n}.csr`, '-subj', `/CN=${hostnames[0] ?? 'localhost'}`]); // prettier-ignore
      openssl(dir, [
        'x509', '-req', '-in', `leaf${n}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-set_serial', String(1000 + n),
        '-out', `leaf${n}.pem`, '-days', '2', '-extfile', `leaf${n}.ext`,
      ]); // prettier-ignore
      return {
        key: readFileSync(join(dir, `leaf${n}.key`), 'utf8'),
        cert: readFileSync(join(dir, `leaf${n}.pem`), 'utf8'),
      };
    },
  };
}
