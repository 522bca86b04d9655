import assert from 'node:assert/strict';
import { createServer, isIP, type Server } from 'node:net';
import { networkInterfaces } from 'node:os';
import { test } from 'node:test';
import { setTimeout } from 'node:timers/promises';
import { startProxy } from '../src/proxy/index.js';
import { createFakeAudit } from './helpers/fake-audit.js';
import { createFakeInternet } from './helpers/fake-internet.js';
import { connectThrough } from './helpers/forward-bench.js';
import { grantAll } from './helpers/policy.js';
import { builtin, captureLogs, makeCredentials } from './helpers/proxy-bench.js';
import { exchange } from './helpers/raw-client.js';
import { needsRoot } from './helpers/sandbox-bench.js';

/** A host-only service: a TCP listener on one of the host's own addresses, counting who reaches it. */
async function hostOnly(t: { after(fn: () => unknown): void }, address: string, port: number) {
  const hits: string[] = [];
  const server: Server = createServer((socket) => {
    hits.push(`${address}:${port}`);
    socket.on('error', () => {});
    socket.end('HTTP/1.1 200 OK\r\ncontent-length: 6\r\nconnection: close\r\n\r\nadmin\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: address, port, ipv6Only: isIP(address) === 6 }, resolve);
  });
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return hits;
}

test(
  "the forward proxy never reaches a service on the host's own addresses; an allowed public test address it does",
  { skip: needsRoot },
  async (t) => {
    // the fake internet adds host addresses of its own (203.0.113.254, 2001:db8::fe), in the
    // test ranges this proxy is told to allow: only the host check can refuse those
    const internet = await createFakeInternet({ tcp: [80, 443], udp: [] });
    t.after(() => internet.close());
    // every address of every interface; a link-local one (fe80::/10) needs a zone to be reached,
    // which no proxy target can carry, so it is only asked for, not listened on
    const own = Object.values(networkInterfaces()).flatMap((list) =>
      (list ?? []).map((a) => ({ address: a.address, listen: !a.scopeid })),
    );
    assert.ok(
      own.some((a) => a.address === internet.hostV4),
      'control: the fake internet link is a host address',
    );
    const hits: string[][] = [];
    for (const { address, listen } of own) {
      if (listen) for (const port of [80, 443]) hits.push(await hostOnly(t, address, port));
    }
    assert.ok(
      hits.length >= 6,
      'control: services listen on loopback, the uplink and the fake internet link',
    );

    const services = [builtin('openai')];
    const proxy = await startProxy(
      {
        sandboxId: 'sbx-host-addresses',
        policy: grantAll(services, { profiles: ['open'] }),
        services,
        credentials: makeCredentials(services),
        audit: createFakeAudit().sink,
        logger: { level: 'silent', stream: captureLogs().stream },
        egress: { allowTestRanges: true }, // real resolver unused (literals only), real dials
      },
      { host: '127.0.0.1', port: 0 },
    );
    t.after(() => proxy.close());
    const port = proxy.address.port;

    for (const { address } of own) {
      const literal = isIP(address) === 6 ? `[${address}]` : address;
      const targets = [literal, ...(isIP(address) === 4 ? [`[::ffff:${address}]`] : [])];
      for (const target of targets) {
        const tunnel = await connectThrough(port, `${target}:443`, null);
        tunnel.socket.destroy();
        assert.equal(tunnel.status, 403, `CONNECT ${target}:443`);
        assert.match(tunnel.head, /airlock_forbidden_address/, `CONNECT ${target}:443`);
        const { responses } = await exchange(
          port,
          `GET http://${target}/admin HTTP/1.1\r\nHost: ${target}\r\nConnection: close\r\n\r\n`,
        );
        assert.equal(responses[0]?.status, 403, `GET http://${target}/admin`);
        assert.match(responses[0]?.body ?? '', /airlock_forbidden_address/, `GET http://${target}/admin`);
      }
    }
    assert.deepEqual(hits.flat(), [], 'no host-only service was reached');

    // positive control, same proxy: a public test address of the fake internet is reached
    for (const allowed of [internet.v4[0]!, `[${internet.v6[0]!}]`]) {
      const tunnel = await connectThrough(port, `${allowed}:443`, null);
      tunnel.socket.destroy();
      assert.equal(tunnel.status, 200, `CONNECT ${allowed}:443: ${tunnel.head}`);
    }
    // the listener reports each connection from its own process: wait for the second report
    for (let i = 0; i < 100 && internet.hits().listener < 2; i++) await setTimeout(20);
    const { listener, detail } = internet.hits();
    assert.equal(listener, 2, `the fake internet saw both tunnels: ${JSON.stringify(detail)}`);
  },
);
