/**
 * The native servers of `npm run bench`, each from a config file generated in a temp folder
 * and listening on loopback only: the TLS upstream (nginx answering a 97-byte JSON, and only
 * to requests that carry the real key), and the two reference proxies, nginx and haproxy,
 * doing airlock's job without the rest: swap the key header, forward over TLS (verified
 * against the bench CA, SNI = the service's host name), keep upstream connections alive.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** The upstream's answer: 97 bytes of JSON, as in issue 11. */
export const ANSWER =
  '{"id":"bench-0001","object":"model","created":1700000000,"owned_by":"airlock","ready":true,"n":1}';

/** What every proxy arm needs to reach the upstream. */
export interface UpstreamTarget {
  /** the name in the certificate and the SNI */
  host: string;
  port: number;
  /** the header the upstream requires, and its real value */
  header: string;
  secret: string;
  caFile: string;
}

function nginxMain(dir: string, http: string): string {
  return `daemon off;
master_process on;
worker_processes auto;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  keepalive_requests 1000000;
${http}
}
`;
}

/** nginx as the TLS upstream: 200 with ANSWER when the key header is right, else 401. */
export function upstreamNginxConfig(
  dir: string,
  o: { port: number; cert: string; key: string; header: string; secret: string },
): string {
  const variable = `$http_${o.header.toLowerCase().replaceAll('-', '_')}`;
  return nginxMain(
    dir,
    `  server {
    listen 127.0.0.1:${o.port} ssl;
    ssl_certificate ${o.cert};
    ssl_certificate_key ${o.key};
    default_type application/json;
    location / {
      if (${variable} != "${o.secret}") { return 401 '{"error":"wrong key"}'; }
      return 200 '${ANSWER}';
    }
  }`,
  );
}

/** nginx as the reference proxy: plain HTTP in, the key header set, TLS to the upstream kept alive. */
export function proxyNginxConfig(dir: string, port: number, up: UpstreamTarget): string {
  return nginxMain(
    dir,
    `  upstream bench_upstream {
    server 127.0.0.1:${up.port};
    keepalive 64;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass https://bench_upstream;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host ${up.host};
      proxy_set_header ${up.header} "${up.secret}";
      proxy_ssl_server_name on;
      proxy_ssl_name ${up.host};
      proxy_ssl_verify on;
      proxy_ssl_trusted_certificate ${up.caFile};
      proxy_ssl_session_reuse on;
    }
  }`,
  );
}

/** haproxy as the reference proxy, the same job as proxyNginxConfig. */
export function haproxyConfig(port: number, up: UpstreamTarget): string {
  return `global
  maxconn 4096
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  http-reuse always
frontend bench_in
  bind 127.0.0.1:${port}
  default_backend bench_upstream
backend bench_upstream
  http-request set-header Host ${up.host}
  http-request set-header ${up.header} ${up.secret}
  server up 127.0.0.1:${up.port} ssl verify required ca-file ${up.caFile} sni str(${up.host}) verifyhost ${up.host}
`;
}

/** A server process started from a config file; `stop()` ends it and waits for its exit. */
export interface NativeServer {
  port: number;
  stop(): Promise<void>;
}

async function waitForPort(port: number, child: ChildProcess, log: () => string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`${child.spawnfile} exited: ${log()}`);
    const up = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => resolve(s.destroy() && true));
      s.on('error', () => resolve(false));
    });
    if (up) return;
    await sleep(50);
  }
  throw new Error(`${child.spawnfile} did not listen on 127.0.0.1:${port}: ${log()}`);
}

/** Starts `command` in the foreground with its config in `dir` and waits until `port` accepts. */
export async function startNative(
  command: 'nginx' | 'haproxy',
  dir: string,
  config: string,
  port: number,
): Promise<NativeServer> {
  const file = join(dir, `${command}.conf`);
  writeFileSync(file, config);
  const args =
    command === 'nginx' ? ['-p', dir, '-e', join(dir, 'error.log'), '-c', file] : ['-db', '-f', file];
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
  };
  try {
    await waitForPort(port, child, () => stderr);
  } catch (error) {
    await stop();
    throw error;
  }
  return { port, stop };
}
