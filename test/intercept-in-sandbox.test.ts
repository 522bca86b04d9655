import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { connect as netConnect, type Socket } from 'node:net';
import { test, type TestContext } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { runCli, startCli } from './helpers/cli.js';
import type { UpstreamHandler } from './helpers/fake-upstream.js';
import { canarySecret } from './helpers/proxy-bench.js';
import { needsRoot, shareFlags } from './helpers/sandbox-bench.js';
import { sandboxUpstream } from './helpers/sandbox-upstream.js';

/** The stand-ins: api.github.com echoes the Authorization it got; the rest answer plainly. */
const standIns: UpstreamHandler = (req, res) => {
  const host = (req.headers.host ?? '').split(':')[0];
  const json = (body: unknown) =>
    void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  if (host === 'api.github.com' && req.url === '/user') {
    return json({ login: 'airlock-bot', id: 1, echoed: req.headers.authorization ?? null });
  }
  if (host === 'huggingface.co' && req.url === '/api/whoami-v2') {
    return json({ name: 'airlock-bot', echoed: req.headers.authorization ?? null });
  }
  if (host === 'api.openai.com' && req.url === '/v1/models') return json({ object: 'list', data: [] });
  if (host === 'raw.githubusercontent.com') return void res.writeHead(200).end('opaque tunnel ok\n');
  res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"no such stand-in"}');
  return undefined;
};

const HOSTS = [
  'api.github.com',
  'raw.githubusercontent.com',
  'api.openai.com',
  'api.anthropic.com',
  'huggingface.co',
];

type Row = Record<string, unknown>;
async function auditRows(home: string): Promise<Row[]> {
  const audit = await runCli(['audit', '--json', '--limit', '100'], { AIRLOCK_HOME: home });
  return audit.stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Row);
}

/** `airlock run` of a shell script in a sandbox, with the canaries in airlock's environment. */
function runScript(home: string, config: string, flags: string[], script: string, env: NodeJS.ProcessEnv) {
  return runCli(['run', ...shareFlags(), '--config', config, ...flags, '--', 'sh', '-c', script], {
    ...env,
    AIRLOCK_HOME: home,
  });
}

test(
  'TLS interception of credential hosts: curl and gh get the token injected, the answer scrubbed, the request audited',
  { skip: needsRoot },
  async (t) => {
    const { upstream, home, config } = await sandboxUpstream(t, HOSTS, standIns);
    const secret = canarySecret('github');
    const env = { GITHUB_TOKEN: secret };

    await t.test('curl with no token of its own reaches api.github.com with the real one', async () => {
      const before = upstream.requests.length;
      const run = await runScript(
        home,
        config,
        ['--profile', 'github', '--cred', 'GITHUB_TOKEN'],
        'curl -sS --fail-with-body https://api.github.com/user',
        env,
      );
      assert.equal(run.status, 0, run.stderr + run.stdout);
      const seen = upstream.requests.slice(before);
      assert.equal(seen.length, 1);
      assert.equal(seen[0]!.headers.authorization, `Bearer ${secret}`, 'the real token went upstream');
      assert.equal(seen[0]!.servername, 'api.github.com');
      const answer = JSON.parse(run.stdout) as { login: string; echoed: string };
      assert.equal(answer.login, 'airlock-bot');
      assert.ok(!run.stdout.includes(secret) && !run.stderr.includes(secret), 'the echo was scrubbed');
      assert.match(answer.echoed, /^Bearer ghp_/, 'the guest sees its placeholder where the token was');
      const rows = (await auditRows(home)).filter((r) => r.host === 'api.github.com');
      const row = rows.at(-1)!;
      assert.equal(row.method, 'GET');
      assert.equal(row.path, '/user');
      assert.equal(row.service, 'github');
      assert.equal(row.credential, 'GITHUB_TOKEN');
      assert.equal(row.status, 200);
    });

    await t.test(
      'gh api user works with the placeholder in GH_TOKEN',
      { skip: !hasGh() && 'gh is not installed (install.sh --with-test-tools)' },
      async () => {
        const before = upstream.requests.length;
        const run = await runScript(
          home,
          config,
          [
            '--profile',
            'github',
            '--cred',
            'GITHUB_TOKEN',
            '--env',
            'GH_NO_UPDATE_NOTIFIER=1',
            '--env',
            'GH_PROMPT_DISABLED=1',
          ],
          'gh api user',
          env,
        );
        assert.equal(run.status, 0, run.stderr + run.stdout);
        assert.equal((JSON.parse(run.stdout) as { login: string }).login, 'airlock-bot');
        const seen = upstream.requests.slice(before);
        assert.ok(seen.length >= 1);
        assert.ok(
          seen.every((r) => r.headers.authorization === `Bearer ${secret}`),
          'gh\'s "token <placeholder>" became the real token',
        );
        assert.ok(!run.stdout.includes(secret) && !run.stderr.includes(secret));
      },
    );

    await t.test(
      'the placeholder is taken where tools put it: Basic x-access-token (git), Bearer (the hub)',
      async () => {
        const hf = canarySecret('huggingface');
        const before = upstream.requests.length;
        const run = await runScript(
          home,
          config,
          ['--profile', 'github', '--profile', 'llm-only', '--cred', 'GITHUB_TOKEN', '--cred', 'HF_TOKEN'],
          [
            'curl -sS --fail-with-body -u "x-access-token:$GITHUB_TOKEN" https://api.github.com/user',
            'curl -sS --fail-with-body -H "Authorization: Bearer $HF_TOKEN" https://huggingface.co/api/whoami-v2',
            // another key is refused, not sent
            'curl -sS -o /dev/null -w "%{http_code}" -H "Authorization: token ghp_not_the_placeholder" https://api.github.com/user',
          ].join(' && echo && '),
          { ...env, HF_TOKEN: hf },
        );
        assert.equal(run.status, 0, run.stderr + run.stdout);
        const seen = upstream.requests.slice(before);
        assert.deepEqual(
          seen.map((r) => r.headers.authorization),
          [`Bearer ${secret}`, `Bearer ${hf}`],
          'each real token once; the wrong key never went upstream',
        );
        assert.match(run.stdout, /403$/);
        assert.ok(![secret, hf].some((s) => run.stdout.includes(s) || run.stderr.includes(s)));
      },
    );

    await t.test('inside the tunnel: the Host header cannot redirect, and endpoint rules hold', async () => {
      const before = upstream.requests.length;
      const run = await runScript(
        home,
        config,
        ['--profile', 'github', '--cred', 'GITHUB_TOKEN', '--allow-endpoint', 'github:GET:/user'],
        [
          'curl -sS --fail-with-body -H "Host: evil.test" https://api.github.com/user',
          'curl -sS -o /dev/null -w "%{http_code}" https://api.github.com/repos/o/r',
        ].join(' && echo && '),
        env,
      );
      assert.equal(run.status, 0, run.stderr + run.stdout);
      assert.match(run.stdout, /403$/, 'a path outside the endpoint rules is refused inside the tunnel');
      const seen = upstream.requests.slice(before);
      assert.equal(seen.length, 1, 'the refused request never went upstream');
      assert.equal(
        seen[0]!.headers.host,
        'api.github.com',
        'the upstream is the CONNECT target, not the Host header',
      );
      assert.equal(seen[0]!.servername, 'api.github.com');
      const refused = (await auditRows(home)).filter((r) => r.path === '/repos/o/r').at(-1)!;
      assert.equal(refused.decision, 'denied');
      assert.equal(refused.method, 'GET');
    });

    await t.test('the sandbox CA is trusted in the guest, and no private key is in its view', async () => {
      const run = await runScript(
        home,
        config,
        ['--profile', 'github', '--cred', 'GITHUB_TOKEN'],
        [
          'grep -c "BEGIN CERTIFICATE" /run/airlock/sandbox-ca.pem',
          'test "$SSL_CERT_FILE" = /run/airlock/ca-bundle.pem && test "$GIT_SSL_CAINFO" = "$SSL_CERT_FILE"',
          'tail -c 2000 /run/airlock/ca-bundle.pem | grep -q "END CERTIFICATE"',
          // every file the guest can write or airlock put in its view, and its processes'
          // environments; not the working directory, this checkout, whose sources name the marker
          // (it lies under /tmp when the checkout does)
          'found=$(grep -rlI -e "PRIVATE KEY" /run /tmp /var/tmp /dev/shm "$HOME" /etc/ssl/certs /proc/[0-9]*/environ /proc/[0-9]*/cmdline 2>/dev/null | grep -v "^$PWD/" || true)',
          '{ test -z "$found" && echo no-key || echo "$found"; }',
        ].join(' && '),
        env,
      );
      assert.equal(run.status, 0, run.stderr + run.stdout);
      assert.deepEqual(run.stdout.trim().split('\n'), ['1', 'no-key']);
    });

    await t.test('an allowed host without a credential stays an opaque tunnel', async () => {
      const run = await runScript(
        home,
        config,
        ['--profile', 'github', '--cred', 'GITHUB_TOKEN'],
        // the stand-in's own certificate (the test CA's, which the guest does not trust) comes through
        'curl -sS -k -v https://raw.githubusercontent.com/x 2>&1',
        env,
      );
      assert.equal(run.status, 0, run.stderr + run.stdout);
      assert.match(run.stdout, /opaque tunnel ok/);
      assert.match(run.stdout, /issuer: CN=airlock test CA/, 'not the sandbox CA: not intercepted');
      const row = (await auditRows(home)).filter((r) => String(r.host).startsWith('raw.')).at(-1)!;
      assert.equal(row.method, 'CONNECT');
    });

    await t.test(
      '--intercept all: a tunnel to an allowed host is inspected, its requests audited',
      async () => {
        const run = await runScript(
          home,
          config,
          ['--profile', 'github', '--intercept', 'all'],
          'curl -sS -v --fail-with-body https://raw.githubusercontent.com/inspected?x=1 2>&1',
          {},
        );
        assert.equal(run.status, 0, run.stderr + run.stdout);
        assert.match(run.stdout, /opaque tunnel ok/);
        assert.match(run.stdout, /issuer: CN=airlock sandbox CA/, 'the guest talked TLS with airlock');
        const row = (await auditRows(home)).filter((r) => r.path === '/inspected').at(-1)!;
        assert.equal(row.method, 'GET');
        assert.equal(row.query, 'x=1');
        assert.equal(row.status, 200);
      },
    );

    await t.test(
      'llm-only: an LLM host with no credential in the sandbox is refused, one with a credential works',
      async () => {
        const openai = canarySecret('openai');
        const run = await runScript(
          home,
          config,
          ['--profile', 'llm-only', '--cred', 'OPENAI_API_KEY'],
          'curl -sS --fail-with-body https://api.openai.com/v1/models && ! curl -sS https://api.anthropic.com/v1/messages 2>&1',
          { OPENAI_API_KEY: openai },
        );
        assert.equal(run.status, 0, run.stderr + run.stdout);
        assert.match(run.stdout, /"object":"list"/);
        assert.match(run.stdout, /CONNECT tunnel failed, response 403/);
        const refused = (await auditRows(home)).filter((r) => r.host === 'api.anthropic.com:443').at(-1)!;
        assert.equal(refused.decision, 'denied');
      },
    );
  },
);

test("a second sandbox does not trust the first one's CA", { skip: needsRoot }, async (t) => {
  const { home, config } = await sandboxUpstream(t, HOSTS, standIns);
  const env = { GITHUB_TOKEN: canarySecret('github') };
  const flags = ['--profile', 'github', '--cred', 'GITHUB_TOKEN'];
  const bundleOf = async () => {
    const run = await runScript(home, config, flags, 'cat /run/airlock/ca-bundle.pem', env);
    assert.equal(run.status, 0, run.stderr);
    return run.stdout;
  };
  // sandbox A stays up while the host talks TLS to its proxy, as a guest would
  const a = startCli(
    [
      'run',
      ...shareFlags(),
      '--config',
      config,
      ...flags,
      '--',
      'sh',
      '-c',
      'cat /run/airlock/ca-bundle.pem; echo "proxy=$AIRLOCK_PROXY_URL"; sleep 60',
    ],
    {
      ...env,
      AIRLOCK_HOME: home,
    },
  );
  t.after(async () => {
    a.child.kill('SIGTERM');
    await a.done;
  });
  // one listener for all of it: chunks read in one go are emitted back to back, and a `once`
  // per chunk would miss the second; a run that ends first fails here instead of hanging
  let out = '';
  a.child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  let ready = false;
  const ended = a.done.then((r) => {
    if (!ready) assert.fail(`sandbox A ended first: ${JSON.stringify(r)}`);
  });
  while (!/proxy=http:\/\/[\d.]+:\d+\n/.test(out)) await Promise.race([once(a.child.stdout!, 'data'), ended]);
  ready = true;
  const [, gateway, port] = /proxy=http:\/\/([\d.]+):(\d+)/.exec(out)!;
  const bundleA = out.slice(0, out.indexOf('proxy='));
  const bundleB = await bundleOf();
  assert.notEqual(bundleA, bundleB, 'each sandbox has its own CA');

  const handshake = async (ca: string) => {
    const raw = await tunnel(t, gateway!, Number(port), 'api.github.com:443');
    return new Promise<string>((resolve) => {
      const tls = tlsConnect({ socket: raw, servername: 'api.github.com', ca }, () => {
        tls.destroy();
        resolve('trusted');
      });
      tls.once('error', (err: Error & { code?: string }) => resolve(err.code ?? err.message));
    });
  };
  assert.equal(await handshake(bundleA), 'trusted', 'control: sandbox A trusts its own leaf');
  // A's leaf comes with A's CA, which B's bundle does not hold: a chain to an unknown root
  assert.equal(await handshake(bundleB), 'SELF_SIGNED_CERT_IN_CHAIN', 'sandbox B does not');
});

/** A CONNECT through a sandbox's proxy from the host, answered 200. */
async function tunnel(t: TestContext, host: string, port: number, target: string): Promise<Socket> {
  const socket = netConnect({ host, port });
  t.after(() => socket.destroy());
  await once(socket, 'connect');
  socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`);
  const [head] = (await once(socket, 'data')) as [Buffer];
  assert.match(head.toString(), /^HTTP\/1\.1 200/);
  return socket;
}

function hasGh(): boolean {
  try {
    execFileSync('gh', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
