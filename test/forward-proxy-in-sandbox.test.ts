import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, normalize } from 'node:path';
import { test } from 'node:test';
import { runCli } from './helpers/cli.js';
import type { UpstreamHandler } from './helpers/fake-upstream.js';
import { needsRoot, tempHome } from './helpers/sandbox-bench.js';
import { sandboxUpstream } from './helpers/sandbox-upstream.js';

/** Serves a folder as static files (enough for git's "dumb" HTTP protocol). */
function staticFiles(root: string): UpstreamHandler {
  return (req, res) => {
    const path = normalize(join(root, decodeURIComponent((req.url ?? '/').split('?')[0]!)));
    if (!path.startsWith(root) || !existsSync(path) || !statSync(path).isFile()) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(readFileSync(path));
  };
}

test('git clone and curl through HTTPS_PROXY reach allowed hosts only', { skip: needsRoot }, async (t) => {
  const home = tempHome(t);
  // a bare repository with one commit, served over HTTPS by the fake upstream
  const site = join(home, 'site');
  const work = join(home, 'work');
  mkdirSync(work, { recursive: true });
  const git = (args: string[], cwd: string) =>
    execFileSync(
      'git',
      ['-c', 'user.name=t', '-c', 'user.email=t@example.test', '-c', 'init.defaultBranch=main', ...args],
      { cwd, stdio: 'pipe' },
    );
  git(['init', '-q'], work);
  writeFileSync(join(work, 'README'), 'cloned through airlock\n');
  git(['add', 'README'], work);
  git(['commit', '-qm', 'first'], work);
  git(['clone', '-q', '--bare', work, join(site, 'repo.git')], home);
  git(['update-server-info'], join(site, 'repo.git'));
  writeFileSync(join(site, 'hello.txt'), 'hello from the fake internet\n');

  const hosts = ['git.example.test', 'files.example.test', 'blocked.example.test'];
  const { ca, upstream, config } = await sandboxUpstream(t, hosts, staticFiles(site), {
    profiles: { fake: { hosts: ['git.example.test', 'files.example.test'] } },
  });
  // the guest verifies the upstream itself (the tunnel is opaque): give it the test CA
  const guestCa = join(mkdtempSync(join(tmpdir(), 'airlock-guest-ca-')), 'ca.pem');
  chmodSync(dirname(guestCa), 0o755);
  copyFileSync(ca.caFile, guestCa);
  chmodSync(guestCa, 0o644);
  t.after(() => rmSync(dirname(guestCa), { recursive: true, force: true }));
  // the guest's own scratch folder (it shares the host's file system)
  const scratch = mkdtempSync(join(tmpdir(), 'airlock-guest-work-'));
  chmodSync(scratch, 0o777);
  t.after(() => rmSync(scratch, { recursive: true, force: true }));

  const script = [
    'set -u',
    'echo "proxy=$HTTPS_PROXY no_proxy=$NO_PROXY"',
    'curl -sS --cacert "$CA" https://files.example.test/hello.txt',
    'curl -sS --cacert "$CA" -o /dev/null https://blocked.example.test/hello.txt 2>&1; echo "blocked-exit=$?"',
    'git clone -q https://git.example.test/repo.git clone 2>&1 && cat clone/README',
    'git clone -q https://blocked.example.test/repo.git nope 2>&1; echo "git-blocked-exit=$?"',
  ].join('\n');
  const run = await runCli(
    ['run', '--config', config, '--profile', 'fake', '--env', `CA=${guestCa}`, '--env', `GIT_SSL_CAINFO=${guestCa}`,
     '--env', `HOME=${scratch}`, '--workdir', scratch, '--', 'sh', '-c', script],
    { AIRLOCK_HOME: home },
  ); // prettier-ignore
  assert.equal(run.status, 0, run.stderr + run.stdout);
  const out = run.stdout;
  assert.match(out, /^proxy=http:\/\/10\.\d+\.\d+\.\d+:9090 no_proxy=10\.\d+\.\d+\.\d+$/m);
  assert.match(out, /^hello from the fake internet$/m, 'curl through HTTPS_PROXY to an allowed host');
  assert.match(out, /CONNECT tunnel failed, response 403/);
  assert.match(out, /^blocked-exit=56$/m);
  assert.match(out, /^cloned through airlock$/m, 'git clone over HTTPS through the proxy');
  assert.match(out, /git-blocked-exit=128/);
  const paths = upstream.requests.map((r) => `${r.headers.host} ${r.path}`);
  assert.ok(paths.includes('files.example.test /hello.txt'));
  assert.ok(paths.some((p) => p.startsWith('git.example.test /repo.git/')));
  assert.ok(!paths.some((p) => p.startsWith('blocked.example.test')), 'the blocked host saw nothing');

  const audit = await runCli(['audit', '--json', '--decision', 'denied'], { AIRLOCK_HOME: home });
  const denied = audit.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { host: string; status: number });
  assert.ok(
    denied.some((r) => r.host === 'blocked.example.test:443' && r.status === 403),
    'denials are audited',
  );
});
