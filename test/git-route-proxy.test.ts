import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from 'undici';
import { respond } from './helpers/fake-upstream.js';
import { startBench } from './helpers/proxy-bench.js';

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

test('the github-git route sends the token to github.com as Basic x-access-token, whatever git sent', async (t) => {
  const bench = await startBench(t, { services: ['github-git'], handler: respond.echo() });
  const cred = bench.cred('github-git');
  const target = `${bench.baseUrl}/proxy/github-git/acme/widgets.git/info/refs?service=git-upload-pack`;
  for (const authorization of [
    undefined,
    basic('x-access-token', cred.placeholder),
    basic(cred.placeholder, ''),
  ]) {
    const res = await request(target, {
      headers: { 'user-agent': 'git/2.39.5', ...(authorization ? { authorization } : {}) },
    });
    assert.equal(res.statusCode, 200);
    const body = await res.body.text();
    const seen = bench.upstream.requests.at(-1)!;
    assert.equal(seen.servername, 'github.com');
    assert.equal(seen.path, '/acme/widgets.git/info/refs?service=git-upload-pack');
    assert.equal(seen.headers.authorization, basic('x-access-token', cred.secret));
    // the echoed header comes back in the placeholder's form
    assert.ok(!body.includes(cred.secret) && !body.includes(basic('x-access-token', cred.secret).slice(6)));
    assert.ok(body.includes(basic('x-access-token', cred.placeholder).slice(6)));
  }
  assert.equal(bench.audit.intents.at(-1)?.credential, 'GITHUB_TOKEN');
  assert.equal(bench.audit.intents.at(-1)?.path, '/acme/widgets.git/info/refs');
  assert.equal(bench.audit.intents.at(-1)?.query, 'service=git-upload-pack');
});

test('a refusal to git is text/plain, so git prints it as "remote:" lines; other clients get JSON', async (t) => {
  const bench = await startBench(t, { services: ['github-git'] });
  const target = `${bench.baseUrl}/proxy/github-git/acme/widgets.git/info/refs?service=git-upload-pack`;
  const authorization = basic('x-access-token', 'ghp_not-this-sandboxs-placeholder');
  const git = await request(target, { headers: { 'user-agent': 'git/2.39.5', authorization } });
  assert.equal(git.statusCode, 403);
  assert.match(String(git.headers['content-type']), /^text\/plain/);
  const text = await git.body.text();
  assert.match(
    text,
    /^airlock: airlock_wrong_credential: the header "authorization" holds a credential that is not this sandbox's placeholder for github-git/,
  );
  assert.equal(Number(git.headers['content-length']), Buffer.byteLength(text));
  const other = await request(target, { headers: { 'user-agent': 'curl/8.0', authorization } });
  assert.equal(other.statusCode, 403);
  assert.match(String(other.headers['content-type']), /^application\/json/);
  await other.body.text();
  assert.equal(bench.upstream.requests.length, 0, 'nothing reached github.com');
});
