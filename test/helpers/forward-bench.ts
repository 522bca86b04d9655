import {
  BlockList,
  connect,
  type Socket,
  createServer as createTcpServer,
  isIP,
  type Server,
} from 'node:net';
import type { Duplex } from 'node:stream';
import { guestVariables, proxyVariables, startProxy, type RunningProxy } from '../../src/proxy/index.js';
import type { ForwardProxyDeps } from '../../src/proxy/types.js';
import { createFakeAudit, type FakeAudit } from './fake-audit.js';
import { createFakeUpstream, type FakeUpstream, type RecordedRequest } from './fake-upstream.js';
import { allowAll, builtin, captureLogs, makeCredentials } from './proxy-bench.js';
import { createTestCa, type TestCa } from './test-ca.js';

type After = { after(fn: () => unknown): void };

/**
 * A stand-in for the policy's SSRF guard: loopback, private, link-local (metadata), CGNAT,
 * multicast, unspecified, ULA, and the NAT64 prefix. IPv4-mapped IPv6 matches the IPv4 rules.
 */
export function testForbiddenAddress(ip: string): boolean {
  const list = new BlockList();
  for (const [net, prefix] of [['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12], ['192.168.0.0', 16], ['224.0.0.0', 4], ['240.0.0.0', 4]] as const) list.addSubnet(net, prefix, 'ipv4'); // prettier-ignore
  for (const [net, prefix] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['64:ff9b::', 96], ['64:ff9b:1::', 48]] as const) list.addSubnet(net, prefix, 'ipv6'); // prettier-ignore
  const family = isIP(ip);
  return family === 0 || list.check(ip, family === 4 ? 'ipv4' : 'ipv6');
}

/** The names of the fake internet (documentation addresses) and some hostile ones. */
export const FAKE_DNS: Record<string, string[]> = {
  'allowed.test': ['203.0.113.10'],
  'also-allowed.test': ['203.0.113.11'],
  'metadata.test': ['169.254.169.254'],
  'mapped-metadata.test': ['::ffff:a9fe:a9fe'],
  'nat64-metadata.test': ['64:ff9b::a9fe:a9fe'],
  'cgnat.test': ['100.64.0.1'],
  'loopback.test': ['127.0.0.1'],
  'gateway.test': ['10.209.0.1'],
  'split.test': ['203.0.113.12', '10.0.0.7'],
  '2852039166': ['169.254.169.254'], // what getaddrinfo makes of a decimal IP
  '0xa9fea9fe': ['169.254.169.254'],
};

export interface ForwardBench {
  proxy: RunningProxy;
  port: number;
  /** every (ip, port) the proxy asked to dial */
  dials: { ip: string; port: number }[];
  /** names the proxy looked up */
  lookups: string[];
  /** requests the plain HTTP server (every dial to port 80) got */
  httpRequests: RecordedRequest[];
  /** TLS server (cert for allowed.test) every dial to port 443 reaches */
  tls: FakeUpstream;
  /** TCP echo server every dial to another port reaches */
  echoPort: number;
  ca: TestCa;
  audit: FakeAudit;
  logs(): string;
  /** the guest environment: credential variables plus HTTP(S)_PROXY */
  env: Record<string, string>;
}

/**
 * A proxy whose forward side can only reach in-process servers on 127.0.0.1: `lookup` answers
 * from FAKE_DNS (anything else fails) and `dial` records the address and connects to a local
 * server chosen by port. Even a broken guard could not send a packet off the machine.
 */
export async function startForwardBench(
  t: After,
  overrides: Partial<ForwardProxyDeps> = {},
): Promise<ForwardBench> {
  const ca = createTestCa(t);
  const tls = await createFakeUpstream({ ca, hostnames: ['allowed.test', 'also-allowed.test'], t });
  const echo: Server = createTcpServer((s) => s.pipe(s));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => echo.close(() => r())));
  const echoPort = (echo.address() as { port: number }).port;
  const { createServer: createHttpServer } = await import('node:http');
  const httpSeen: RecordedRequest[] = [];
  const plain = createHttpServer((req, res) => {
    httpSeen.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, rawHeaders: req.rawHeaders, bodyLength: 0, body: Buffer.alloc(0), servername: undefined }); // prettier-ignore
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain', connection: 'x-secret-hop', 'x-secret-hop': '1' });
      res.end(`plain hello from ${String(req.headers.host)}${req.url ?? ''}`);
    });
  });
  await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => (plain.closeAllConnections(), plain.close(() => r()))));
  const httpPort = (plain.address() as { port: number }).port;

  const dials: ForwardBench['dials'] = [];
  const lookups: string[] = [];
  const services = [builtin('openai')];
  const credentials = makeCredentials(services);
  const audit = createFakeAudit();
  const logs = captureLogs();
  const forwardProxy: ForwardProxyDeps = {
    allowHost: (host) => host !== 'denied.test',
    isForbiddenAddress: testForbiddenAddress,
    lookup: (name) => {
      lookups.push(name);
      const answer = FAKE_DNS[name];
      if (!answer)
        return Promise.reject(Object.assign(new Error(`ENOTFOUND ${name}`), { code: 'ENOTFOUND' }));
      return Promise.resolve(answer);
    },
    dial: (ip, port) => {
      dials.push({ ip, port });
      const local = port === 443 ? tls.port : port === 80 ? httpPort : echoPort;
      return new Promise<Duplex>((resolve, reject) => {
        const socket = connect(local, '127.0.0.1');
        socket.once('connect', () => resolve(socket));
        socket.once('error', reject);
      });
    },
    ...overrides,
  };
  const proxy = await startProxy(
    {
      sandboxId: 'sbx-forward',
      services,
      credentials,
      authorize: allowAll,
      audit: audit.sink,
      resolve: { 'api.openai.com': '127.0.0.1', 'pinned.test': '10.0.0.5' },
      upstreamCa: [ca.caPem],
      logger: { level: 'debug', stream: logs.stream },
      forwardProxy,
    },
    { host: '127.0.0.1', port: 0 },
  );
  t.after(() => proxy.close());
  const base = `http://127.0.0.1:${proxy.address.port}`;
  return {
    proxy,
    port: proxy.address.port,
    dials,
    lookups,
    httpRequests: httpSeen,
    tls,
    echoPort,
    ca,
    audit,
    logs: () => logs.text(),
    env: { ...guestVariables(services, credentials, base), ...proxyVariables(base) },
  };
}

/** Opens a CONNECT tunnel by hand; resolves with the proxy's answer head and the socket. */
export function connectThrough(
  port: number,
  target: string,
  hostHeader: string | null = target,
): Promise<{ status: number; head: string; socket: Socket }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    const onData = (c: Buffer) => {
      text += c.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      // a refusal carries a JSON body after the head; wait for the close to have all of it
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      if (status === 200) resolve({ status, head: text, socket });
      else socket.on('data', (more: Buffer) => (text += more.toString('latin1'))).on('close', () => resolve({ status, head: text, socket })); // prettier-ignore
    };
    socket.on('data', onData);
    socket.on('error', reject);
    socket.write(`CONNECT ${target} HTTP/1.1\r\n${hostHeader === null ? '' : `Host: ${hostHeader}\r\n`}\r\n`);
  });
}
