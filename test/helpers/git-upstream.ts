import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { TestCa } from './test-ca.js';

/** One request as the git stand-in saw it (never the credential itself). */
export interface GitRequest {
  method: string;
  /** path and query as received */
  target: string;
  /** whether Authorization was exactly Basic x-access-token:<the expected token> */
  authorized: boolean;
}

/** A git smart-HTTP server for `github.com`: `git http-backend` behind HTTPS, token checked. */
export interface GitUpstream {
  /** the folder holding `<owner>/<repo>.git` bare repositories */
  root: string;
  requests: GitRequest[];
  /** `git` run in a bare repository of `root` (e.g. `log --format=%s main`) */
  git(repo: string, args: string[]): string;
}

/** git without any of the host's configuration. */
const GIT_ENV = {
  PATH: '/usr/local/bin:/usr/bin:/bin',
  HOME: '/nonexistent',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 'upstream',
  GIT_AUTHOR_EMAIL: 'upstream@example.com',
  GIT_COMMITTER_NAME: 'upstream',
  GIT_COMMITTER_EMAIL: 'upstream@example.com',
};

function git(cwd: string, args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    env: GIT_ENV,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Runs one request through `git http-backend` (CGI): request body in, CGI head and body out. */
function serveCgi(root: string, user: string, req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'https://github.com');
  const child = spawn('git', ['http-backend'], {
    env: {
      ...GIT_ENV,
      GIT_PROJECT_ROOT: root,
      GIT_HTTP_EXPORT_ALL: '1',
      REMOTE_USER: user, // http-backend enables receive-pack for authenticated users only
      REMOTE_ADDR: '127.0.0.1',
      REQUEST_METHOD: req.method ?? 'GET',
      PATH_INFO: decodeURIComponent(url.pathname),
      QUERY_STRING: url.search.slice(1),
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      ...(req.headers['content-encoding'] ? { HTTP_CONTENT_ENCODING: req.headers['content-encoding'] } : {}),
      ...(req.headers['git-protocol'] ? { GIT_PROTOCOL: String(req.headers['git-protocol']) } : {}),
    },
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  req.pipe(child.stdin);
  let head = Buffer.alloc(0);
  let started = false;
  child.stdout.on('data', (chunk: Buffer) => {
    if (started) return void res.write(chunk);
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) return;
    started = true;
    let status = 200;
    const headers: Record<string, string> = {};
    for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
      const colon = line.indexOf(':');
      const [name, value] = [line.slice(0, colon).trim(), line.slice(colon + 1).trim()];
      if (name.toLowerCase() === 'status') status = parseInt(value, 10);
      else headers[name] = value;
    }
    res.writeHead(status, headers);
    res.write(head.subarray(end + 4));
  });
  child.on('close', () => (started ? res.end() : res.writeHead(502).end()));
}

/**
 * A git smart-HTTP stand-in for github.com on 127.0.0.1:443 (the proxy reaches it through
 * `resolve`), serving `owner/repo.git` with one commit on `main`. Like github.com, it answers
 * 401 unless the request carries `Authorization: Basic base64("x-access-token:" + token)`.
 */
export async function createGitUpstream(
  t: TestContext,
  ca: TestCa,
  token: string,
  repo = 'acme/widgets.git',
): Promise<GitUpstream> {
  const root = mkdtempSync(join(tmpdir(), 'airlock-git-upstream-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const bare = join(root, repo);
  mkdirSync(bare, { recursive: true });
  git(bare, ['init', '--quiet', '--bare', '--initial-branch=main']);
  const work = join(root, 'seed');
  mkdirSync(work);
  git(work, ['init', '--quiet', '--initial-branch=main']);
  git(work, ['commit', '--quiet', '--allow-empty', '-m', 'seed']);
  git(work, ['push', '--quiet', bare, 'main']);
  rmSync(work, { recursive: true, force: true });
  chmodSync(root, 0o700);

  const expected = `Basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`;
  const requests: GitRequest[] = [];
  const { key, cert } = ca.issue(['github.com']);
  const server = createServer({ key, cert }, (req, res) => {
    const authorized = req.headers.authorization === expected;
    requests.push({ method: req.method ?? '', target: req.url ?? '', authorized });
    if (!authorized) {
      req.resume();
      res.writeHead(401, { 'www-authenticate': 'Basic realm="GitHub"', 'content-type': 'text/plain' });
      return void res.end('the token is not the one expected\n');
    }
    serveCgi(root, 'x-access-token', req, res);
  });
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen(443, '127.0.0.1', resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { root, requests, git: (name, args) => git(join(root, name), args) };
}
