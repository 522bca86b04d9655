import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join, normalize } from 'node:path';
import { test } from 'node:test';
import { runCli } from './helpers/cli.js';
import type { UpstreamHandler } from './helpers/fake-upstream.js';
import { needsRoot, shareDir, shareFlags, tempHome } from './helpers/sandbox-bench.js';
import { sandboxUpstream } from './helpers/sandbox-upstream.js';

/** Serves a folder as static files, index.html for a folder (enough for git's "dumb" HTTP and a PEP 503 index). */
function staticFiles(root: string): UpstreamHandler {
  return (req, res) => {
    let path = normalize(join(root, decodeURIComponent((req.url ?? '/').split('?')[0]!)));
    if (existsSync(path) && statSync(path).isDirectory()) path = join(path, 'index.html');
    if (!path.startsWith(root) || !existsSync(path) || !statSync(path).isFile()) {
      res.writeHead(404).end('not found');
      return;
    }
    const type = path.endsWith('.html') ? 'text/html' : 'application/octet-stream';
    res.writeHead(200, { 'content-type': type }).end(readFileSync(path));
  };
}

/** A PEP 503 index with one tiny wheel, as pip expects from PyPI or a private index. */
function pythonIndex(site: string): string {
  const wheel = 'tinypkg-1.0-py3-none-any.whl';
  mkdirSync(join(site, 'simple', 'tinypkg'), { recursive: true });
  mkdirSync(join(site, 'packages'));
  execFileSync('python3', [
    '-c',
    `import sys, zipfile
z = zipfile.ZipFile(sys.argv[1], "w")
z.writestr("tinypkg/__init__.py", "X = 1\\n")
z.writestr("tinypkg-1.0.dist-info/METADATA", "Metadata-Version: 2.1\\nName: tinypkg\\nVersion: 1.0\\n")
z.writestr("tinypkg-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\\nGenerator: test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n")
z.writestr("tinypkg-1.0.dist-info/RECORD", "")
z.close()`,
    join(site, 'packages', wheel),
  ]);
  const sha = createHash('sha256')
    .update(readFileSync(join(site, 'packages', wheel)))
    .digest('hex');
  writeFileSync(
    join(site, 'simple', 'tinypkg', 'index.html'),
    `<!DOCTYPE html><html><body><a href="../../packages/${wheel}#sha256=${sha}">${wheel}</a></body></html>\n`,
  );
  return wheel;
}

test(
  'git clone, curl and pip through HTTPS_PROXY reach allowed hosts only',
  { skip: needsRoot },
  async (t) => {
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
    const wheel = pythonIndex(site);

    const hosts = ['git.example.test', 'files.example.test', 'pypi.example.test', 'blocked.example.test'];
    const { ca, upstream, config } = await sandboxUpstream(t, hosts, staticFiles(site), {
      profiles: { fake: { hosts: ['git.example.test', 'files.example.test', 'pypi.example.test'] } },
    });
    // the guest verifies the upstream itself (the tunnel is opaque): give it the test CA
    const guestCa = join(shareDir(t, 'ca-'), 'ca.pem');
    copyFileSync(ca.caFile, guestCa);
    chmodSync(guestCa, 0o644);
    // the guest's working directory, where its clone and downloads land
    const scratch = tempHome(t);
    chmodSync(scratch, 0o777);

    const script = [
      'set -u',
      'echo "proxy=$HTTPS_PROXY no_proxy=$NO_PROXY"',
      'curl -sS --cacert "$CA" https://files.example.test/hello.txt',
      'curl -sS --cacert "$CA" -o /dev/null https://blocked.example.test/hello.txt 2>&1; echo "blocked-exit=$?"',
      'git clone -q https://git.example.test/repo.git clone 2>&1 && cat clone/README',
      'git clone -q https://blocked.example.test/repo.git nope 2>&1; echo "git-blocked-exit=$?"',
      'pip download -q --no-deps --no-cache-dir --disable-pip-version-check --index-url https://pypi.example.test/simple/ -d dl tinypkg 2>&1 && ls dl',
    ].join('\n');
    const run = await runCli(
    ['run', ...shareFlags(), '--config', config, '--profile', 'fake', '--env', `CA=${guestCa}`,
     '--env', `GIT_SSL_CAINFO=${guestCa}`, '--env', `PIP_CERT=${guestCa}`, '--workdir', scratch, '--', 'sh', '-c', script],
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
    assert.match(out, new RegExp(`^${wheel}$`, 'm'), 'pip through HTTPS_PROXY from a private index');
    assert.ok(existsSync(join(scratch, 'dl', wheel)), 'the download landed in the working directory');
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
  },
);
