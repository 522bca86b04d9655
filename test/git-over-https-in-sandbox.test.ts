import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { runCli } from './helpers/cli.js';
import { createGitUpstream } from './helpers/git-upstream.js';
import { canarySecret } from './helpers/proxy-bench.js';
import { needsRoot, tempHome } from './helpers/sandbox-bench.js';
import { createTestCa } from './helpers/test-ca.js';
import { writeFileSync } from 'node:fs';

/** Clone, commit and push as the guest would, reporting each step (git's own words included). */
const GUEST_SCRIPT = `
set -u
git clone https://github.com/acme/widgets.git w 2>&1 || { echo "clone-failed"; exit 0; }
echo "clone-ok"
cd w
echo hello > file.txt
git add file.txt
git -c user.name=guest -c user.email=guest@example.com commit -q -m "from the guest"
if git push origin main 2>&1; then echo "push-ok"; else echo "push-failed"; fi
git config --list --show-origin 2>&1
env
cp -r "$HOME" ../guest-home && echo "home-copied"
`;

/** Every file under `dir`, read as text (the canary must be in none of them). */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).isFile())
    .map((f) => readFileSync(f, 'latin1'));
}

interface AuditRow {
  method: string;
  host: string;
  path: string;
  status: number | null;
  service: string | null;
  credential: string | null;
}

async function runGit(t: TestContext, flags: string[]) {
  const token = canarySecret('github');
  const ca = createTestCa(t);
  const upstream = await createGitUpstream(t, ca, token);
  const home = tempHome(t);
  const config = join(home, 'test.json');
  const resolve = { 'github.com': '127.0.0.1', 'api.github.com': '127.0.0.1' };
  writeFileSync(config, JSON.stringify({ resolve, upstreamCa: [ca.caFile] }));
  const work = mkdtempSync(join(tmpdir(), 'airlock-git-work-'));
  chmodSync(work, 0o777); // the guest's unprivileged user writes its clone here
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const run = await runCli(
    ['run', '--config', config, '--cred', 'GITHUB_TOKEN', '--workdir', work,
     ...flags, '--', 'sh', '-c', GUEST_SCRIPT],
    { AIRLOCK_HOME: home, GITHUB_TOKEN: token },
  ); // prettier-ignore
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /^home-copied$/m, 'control: the guest HOME is among the files checked');
  const audit = await runCli(['audit', '--json'], { AIRLOCK_HOME: home });
  assert.equal(audit.status, 0, audit.stderr);
  const rows = audit.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as AuditRow);
  // the real token appears nowhere the guest could see, nor in what airlock kept
  for (const [what, text] of [
    ['guest output', run.stdout],
    ['airlock output', run.stderr],
    ['audit log', audit.stdout],
    ...filesUnder(work).map((text) => ['a file of the guest', text]),
  ] as const) {
    assert.ok(!text.includes(token), `the real token is in ${what}`);
  }
  return { run, rows, upstream, token };
}

test(
  'git over HTTPS in a sandbox: clone and push to github.com with the token injected as Basic auth',
  { skip: needsRoot },
  async (t) => {
    const { run, rows, upstream } = await runGit(t, []);
    assert.match(run.stdout, /^clone-ok$/m, run.stdout);
    assert.match(run.stdout, /^push-ok$/m, run.stdout);
    assert.match(run.stdout, /^GIT_CONFIG_COUNT=3$/m);
    assert.match(run.stdout, /^GIT_TERMINAL_PROMPT=0$/m);
    assert.match(
      run.stdout,
      /url\.http:\/\/[\d.]+:\d+\/proxy\/github-git\/\.insteadof=https:\/\/github\.com\//,
    );
    assert.equal(
      upstream.git('acme/widgets.git', ['log', '-1', '--format=%s', 'main']).trim(),
      'from the guest',
    );
    assert.ok(upstream.requests.length >= 4, 'upload-pack and receive-pack both ran');
    assert.ok(
      upstream.requests.every((r) => r.authorized),
      'every request carried x-access-token:<real token>',
    );
    const git = rows
      .filter((r) => r.service === 'github-git')
      .map((r) => `${r.method} ${r.path} ${r.status}`);
    assert.deepEqual([...new Set(git)].sort(), [
      'GET /acme/widgets.git/info/refs 200',
      'POST /acme/widgets.git/git-receive-pack 200',
      'POST /acme/widgets.git/git-upload-pack 200',
    ]);
    assert.ok(rows.filter((r) => r.service === 'github-git').every((r) => r.credential === 'GITHUB_TOKEN'));
    assert.ok(rows.every((r) => r.host === 'github.com' || r.service !== 'github-git'));
  },
);

test(
  'git over HTTPS in a sandbox: fetch-only endpoint rules let clone through and refuse push with a 403 git shows',
  { skip: needsRoot },
  async (t) => {
    // with --profile github the guest also has HTTP(S)_PROXY: git must still go straight to
    // its route (NO_PROXY names the gateway), not through the forward proxy
    const { run, rows, upstream } = await runGit(t, [
      '--profile',
      'github',
      '--allow-endpoint',
      'github-git:GET:/*/*/info/refs?service=git-upload-pack',
      '--allow-endpoint',
      'github-git:POST:/*/*/git-upload-pack',
    ]);
    assert.match(run.stdout, /^HTTPS_PROXY=http:\/\/[\d.]+:\d+$/m, 'control: the forward proxy is on');
    assert.match(run.stdout, /^clone-ok$/m, run.stdout);
    assert.match(run.stdout, /^push-failed$/m, run.stdout);
    // git prints a text/plain refusal as `remote:` lines before its own error
    assert.match(
      run.stdout,
      /^remote: airlock: airlock_policy_denied: GET \/acme\/widgets\.git\/info\/refs\?service=git-receive-pack refused for service "github-git"/m,
    );
    assert.match(run.stdout, /403/);
    assert.equal(upstream.git('acme/widgets.git', ['log', '-1', '--format=%s', 'main']).trim(), 'seed');
    assert.ok(
      upstream.requests.every((r) => !r.target.includes('receive-pack')),
      'the upstream never saw the push',
    );
    assert.ok(
      rows.some(
        (r) =>
          r.service === 'github-git' &&
          r.method === 'GET' &&
          r.path === '/acme/widgets.git/info/refs' &&
          r.status === 403,
      ),
      'the refused push is on record',
    );
  },
);
