import type * as X509 from '@peculiar/x509';
import { randomBytes, webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import type { SecureContext } from 'node:tls';

let library: Promise<typeof X509> | undefined;

/**
 * @peculiar/x509 with its Reflect polyfill (v2 reads decorator metadata through it), loaded on
 * first use: about 50–90 ms of module loading that then overlaps the sandbox's kernel setup
 * instead of delaying every command's start.
 */
function loadX509(): Promise<typeof X509> {
  library ??= (async () => {
    await import('reflect-metadata');
    // a CommonJS module: bundled, its exports come as the namespace's default
    const loaded = (await import('@peculiar/x509')) as typeof X509 & { default?: typeof X509 };
    const x509 = loaded.default?.cryptoProvider ? loaded.default : loaded;
    x509.cryptoProvider.set(webcrypto);
    return x509;
  })();
  return library;
}

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 60 * 60 * 1000;
/** how long a sandbox's CA and its leaves are valid, in `ms` (a sandbox living longer re-mints nothing: clocks skew, sandboxes rarely live a month) */
const VALIDITY_MS = 30 * DAY_MS;
/** how far back notBefore is set, in `ms` (a guest clock slightly behind still accepts the certificates) */
const BACKDATE_MS = DAY_MS;

/** One sandbox's certificate authority: its certificate is public, its private key never leaves this process's memory. */
export interface SandboxCa {
  /** the CA certificate, PEM (what the guest's trust bundle adds to the system CAs) */
  certPem: string;
  /** a TLS context presenting a leaf for `host` (a DNS name or IP) minted by this CA; cached per host */
  leafContext(host: string): Promise<SecureContext>;
}

export interface SandboxCaOptions {
  /** names the CA in its subject, e.g. the sandbox id (omitted = none) */
  label?: string;
  /** leaves kept at once, least recently used dropped first (omitted = 256) */
  maxLeaves?: number;
}

/** A random positive serial number, hex (RFC 5280: at most 20 octets; the top bit clear keeps it positive). */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f;
  return bytes.toString('hex');
}

function pemKey(der: ArrayBuffer): string {
  const b64 = Buffer.from(der).toString('base64');
  return `-----BEGIN PRIVATE KEY-----\n${b64.replace(/.{64}/g, '$&\n').replace(/\n$/, '')}\n-----END PRIVATE KEY-----\n`;
}

/**
 * A fresh ECDSA P-256 certificate authority for one sandbox (a few ms). Its private key is a
 * non-extractable WebCrypto key: it signs leaves and can never be exported, so it is never in
 * a file, a log or the guest's view, and it is gone with this object. Leaves share one key
 * pair per CA (only the certificate differs per host, as in mockttp), carry the SAN, the AKI
 * Python ≥ 3.13 requires, and the server-auth EKU; each host's Promise is cached, so
 * concurrent handshakes mint once.
 */
export async function createSandboxCa(options: SandboxCaOptions = {}): Promise<SandboxCa> {
  const x509 = await loadX509();
  const subtle = webcrypto.subtle;
  const notBefore = new Date(Date.now() - BACKDATE_MS);
  const notAfter = new Date(Date.now() + VALIDITY_MS);
  const [caKeys, leafKeys] = await Promise.all([
    subtle.generateKey(ALGORITHM, false, ['sign', 'verify']),
    subtle.generateKey(ALGORITHM, true, ['sign', 'verify']),
  ]);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: `CN=airlock sandbox CA${options.label ? ` ${options.label}` : ''}, O=airlock`,
    notBefore,
    notAfter,
    signingAlgorithm: ALGORITHM,
    keys: caKeys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const certPem = ca.toString('pem') + '\n';
  // the leaves' key, in memory only (TLS needs it as PEM)
  const leafKeyPem = pemKey(await subtle.exportKey('pkcs8', leafKeys.privateKey));
  const authorityKey = await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey);
  const maxLeaves = options.maxLeaves ?? 256;
  const leaves = new Map<string, Promise<SecureContext>>();

  async function mint(host: string): Promise<SecureContext> {
    const leaf = await x509.X509CertificateGenerator.create({
      serialNumber: serialNumber(),
      subject: `CN=${host}`,
      issuer: ca.subject,
      notBefore,
      notAfter,
      signingAlgorithm: ALGORITHM,
      publicKey: leafKeys.publicKey,
      signingKey: caKeys.privateKey,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension([{ type: isIP(host) ? 'ip' : 'dns', value: host }]),
        authorityKey,
      ],
    });
    return process
      .getBuiltinModule('node:tls')
      .createSecureContext({ key: leafKeyPem, cert: leaf.toString('pem') + '\n' + certPem });
  }

  return {
    certPem,
    leafContext(host) {
      const key = host.toLowerCase();
      let context = leaves.get(key);
      if (context) {
        leaves.delete(key); // most recently used goes last
      } else {
        context = mint(key);
        context.catch(() => leaves.delete(key));
        if (leaves.size >= maxLeaves) leaves.delete(leaves.keys().next().value!);
      }
      leaves.set(key, context);
      return context;
    },
  };
}
