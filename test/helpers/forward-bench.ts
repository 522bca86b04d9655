import { connect, createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import { guestVariables, proxyVariables, startProxy, type RunningProxy } from '../../src/proxy/index.js';
import type { EgressOptions } from '../../src/proxy/types.js';
import type { SandboxPolicy } from '../../src/policy/index.js';
import { createFakeAudit, type FakeAudit } from './fake-audit.js';
import { createFakeUpstream, type FakeUpstream, type RecordedRequest } from './fake-upstream.js';
import { grantAll } from './policy.js';
import { builtin, captureLogs, makeCredentials } from './proxy-bench.js';
import { createTestCa, type TestCa } from './test-ca.js';

type After = { after(fn: () => unknown): void };

/** Hostile names the fake resolver answers (the guard must refuse every one before a dial). */
export const FAKE_DNS: Record<string, string[]> = {
  'metadata.test': ['169.254.169.254'],
  'mapped-metadata.test': ['::ffff:a9fe:a9fe'],
  'nat64-metadata.test': ['64:ff9b::a9fe:a9fe'],
  'cgnat.test': ['100.64.0.1'],
  'loopback.test': ['127.0.0.1'],
  'gateway.test': ['10.209.0.1'],
  'split.test': ['203.0.113.12', '10.0.0.7'],
  'documentation.test': ['203.0.113.10'],
};

/** Hosts the bench pins in `resolve` (the admin's choice: loopback is fine for them). */
export const PINNED: Record<string, string> = {
  'allowed.test': '127.0.0.1',
  'also-allowed.test': '127.0.0.1',
  'echo.test': '127.0.0.2',
  'pinned.test': '127.0.0.2',
  'api.openai.com': '127.0.0.1',
};

/** The bench's own profile: every name above (the address checks decide those), `denied.test` left out. */
export const BENCH_HOSTS = [...Object.keys(PINNED), ...Object.keys(FAKE_DNS)];

export interface ForwardBenchOptions {
  /** the sandbox policy (omitted = an OpenAI credential and a profile allowing BENCH_HOSTS) */
  policy?: SandboxPolicy;
  /** egress overrides (omitted = FAKE_DNS lookups and the bench's dialer) */
  egress?: Partial<EgressOptions>;
}

export interface ForwardBench {
  proxy: RunningProxy;
  port: number;
  /** every (ip, port) the proxy asked to dial */
  dials: { ip: string; port: number }[];
  /** names the proxy looked up */
  lookups: string[];
  /** requests the plain HTTP server (127.0.0.1:80) got */
  httpRequests: RecordedRequest[];
  /** TLS server (cert for allowed.test) that 127.0.0.1:443 reaches */
  tls: FakeUpstream;
  ca: TestCa;
  audit: FakeAudit;
  logs(): string;
  /** the guest environment: credential variables plus HTTP(S)_PROXY */
  env: Record<string, string>;
}

/**
 * A proxy whose forward side can only reach in-process servers on loopback: `lookup` answers
 * from FAKE_DNS (anything else fails), the pinned names lead to 127.0.0.1 (a TLS server for
 * 443, a plain HTTP server for 80) and 127.0.0.2 (a TCP echo server on any port), and `dial`
 * records every address it is asked for. Even a broken guard could not send a packet off the
 * machine: the dialer connects to loopback only, and the peer check refuses the mismatch.
 */
export async function startForwardBench(t: After, options: ForwardBenchOptions = {}): Promise<ForwardBench> {
  const ca = createTestCa(t);
  const tls = await createFakeUpstream({ ca, hostnames: ['allowed.test', 'also-allowed.test'], t });
  const echo: Server = createTcpServer((s) => s.pipe(s).on('error', () => {}));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.2', r));
  t.after(() => new Promise<void>((r) => echo.close(() => r())));
  const echoPort = (echo.address() as { port: number }).port;
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
  const local = (ip: string, port: number): [string, number] =>
    ip === '127.0.0.2' ? ['127.0.0.2', echoPort] : ['127.0.0.1', port === 443 ? tls.port : httpPort];
  const egress: EgressOptions = {
    lookup: (name) => {
      lookups.push(name);
      const answer = FAKE_DNS[name];
      if (!answer)
        return Promise.reject(Object.assign(new Error(`ENOTFOUND ${name}`), { code: 'ENOTFOUND' }));
      return Promise.resolve(answer);
    },
    dial: (ip, port) => {
      dials.push({ ip, port });
      const [host, to] = local(ip, port);
      return connectTo(host, to);
    },
    ...options.egress,
  };
  const policy =
    options.policy ??
    grantAll(services, { profiles: ['bench'], customProfiles: { bench: { hosts: BENCH_HOSTS } } });
  const proxy = await startProxy(
    {
      sandboxId: 'sbx-forward',
      policy,
      services,
      credentials,
      audit: audit.sink,
      resolve: PINNED,
      upstreamCa: [ca.caPem],
      logger: { level: 'debug', stream: logs.stream },
      egress,
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
    ca,
    audit,
    logs: () => logs.text(),
    env: { ...guestVariables(services, credentials, base), ...proxyVariables(base) },
  };
}

/** A TCP connection, once it is up. */
function connectTo(host: string, port: number): Promise<Socket> {
  return new Promise<Socket>((resolve, reject) => {
    const socket = connect(port, host);
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** An egress dialer that connects every tunnel to one local TCP port, whatever it was asked for. */
export function dialLocalPort(port: number): EgressOptions['dial'] {
  return () => connectTo('127.0.0.1', port);
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
