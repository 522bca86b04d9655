import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { test } from 'node:test';
import { connect, TLSSocket, type SecureContext } from 'node:tls';
import { createSandboxCa } from '../src/proxy/intercept/sandbox-ca.js';

/** A TLS handshake with a server presenting `context`, verified against `ca` only; 'trusted' or the error code. */
async function handshake(context: SecureContext, host: string, ca: string): Promise<string> {
  const server = createServer((socket) => {
    const tls = new TLSSocket(socket, { isServer: true, secureContext: context });
    tls.on('error', () => tls.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const { port } = server.address() as AddressInfo;
    return await new Promise<string>((resolve) => {
      const client = connect({ host: '127.0.0.1', port, servername: host, ca }, () => {
        client.destroy();
        resolve('trusted');
      });
      client.once('error', (err: Error & { code?: string }) => resolve(err.code ?? err.message));
    });
  } finally {
    server.close();
  }
}

test('a sandbox CA mints leaves its own trust verifies, and another sandbox CA does not', async () => {
  const [a, b] = await Promise.all([createSandboxCa({ label: 'a' }), createSandboxCa({ label: 'b' })]);
  const cert = new X509Certificate(a.certPem);
  assert.equal(cert.ca, true);
  assert.match(cert.subject, /airlock sandbox CA a/);
  assert.doesNotMatch(a.certPem, /PRIVATE KEY/, 'the CA is a certificate only');
  const leaf = await a.leafContext('api.github.com');
  assert.equal(await handshake(leaf, 'api.github.com', a.certPem), 'trusted');
  assert.equal(await handshake(leaf, 'api.github.com', b.certPem), 'SELF_SIGNED_CERT_IN_CHAIN');
  assert.equal(await handshake(leaf, 'evil.test', a.certPem), 'ERR_TLS_CERT_ALTNAME_INVALID');
  const ip = await a.leafContext('203.0.113.7');
  assert.equal(await handshake(ip, '203.0.113.7', a.certPem), 'trusted', 'an IP gets an IP SAN');
});

test('leaves are cached per host (one Promise for concurrent handshakes) and bounded', async () => {
  const ca = await createSandboxCa({ maxLeaves: 2 });
  const first = ca.leafContext('a.test');
  assert.equal(ca.leafContext('A.test'), first, 'hostnames are case-insensitive');
  await first;
  const b = ca.leafContext('b.test');
  void ca.leafContext('a.test'); // used again: b.test is now the oldest
  await ca.leafContext('c.test');
  assert.equal(ca.leafContext('a.test'), first, 'kept: recently used');
  assert.notEqual(ca.leafContext('b.test'), b, 'dropped: the least recently used past the bound');
});
