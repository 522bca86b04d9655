import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BUILTIN_SERVICES } from '../src/catalogue/builtin.js';
import { createCatalogue } from '../src/catalogue/catalogue.js';
import type { Service } from '../src/catalogue/service.js';
import { AirlockError } from '../src/errors.js';
import { guestVariables, reservedVariable } from '../src/proxy/index.js';
import { builtin } from './helpers/proxy-bench.js';
import { denial, forwardAllowed, policyWith } from './helpers/policy.js';
import { evaluate } from '../src/policy/index.js';

const GW = 'http://10.209.0.1:9090';

test('github-git sends the GitHub credential: same variables, its own host and carrier', () => {
  const catalogue = createCatalogue();
  assert.equal(catalogue.byEnvVar('GITHUB_TOKEN')?.name, 'github');
  assert.equal(catalogue.byEnvVar('GH_TOKEN')?.name, 'github');
  assert.deepEqual(
    catalogue.companions('github').map((s) => s.name),
    ['github-git'],
  );
  const git = catalogue.byHost('github.com')!;
  assert.equal(git.name, 'github-git');
  assert.deepEqual(git.carrier, { kind: 'basic', username: 'x-access-token' });
  assert.equal(catalogue.byHost('api.github.com')?.name, 'github');
  // a companion must name a service with a credential of its own, under the same variable
  const stray: Service = { ...git, name: 'stray-git', hosts: ['git.example.com'], credentialOf: 'openai' };
  assert.throws(
    () => createCatalogue([stray]),
    (e: unknown) => e instanceof AirlockError && /stray-git.*credentialOf "openai"/.test(e.message),
  );
});

test('the GitHub credential grants github-git where the profiles allow github.com, with its own rules', () => {
  const none = policyWith({ credentials: ['GITHUB_TOKEN'] });
  assert.deepEqual([...none.services.keys()], ['github', 'github-git']);
  assert.equal(none.services.get('github-git')?.credential, 'GITHUB_TOKEN');
  assert.equal(none.credentialHosts.get('github.com'), 'github-git');
  // github.com holds the credential now: a CONNECT to it is intercepted as github-git, never an
  // opaque tunnel around the git route's rules; plain HTTP to it is refused
  const github = policyWith({ profiles: ['github'], credentials: ['GITHUB_TOKEN'] });
  assert.equal(forwardAllowed(github, 'codeload.github.com'), true, 'control: other GitHub hosts');
  const connect = evaluate(github, { kind: 'forward', method: 'CONNECT', target: 'github.com:443' });
  assert.ok(connect.allow && connect.service === 'github-git', JSON.stringify(connect));
  const plain = denial(evaluate(github, { kind: 'forward', method: 'GET', target: 'http://github.com/x' }));
  assert.equal(plain.code, 'AIRLOCK_ERR_USE_BASE_URL');
  assert.match(plain.message, /\/proxy\/github-git\//);
  const apiOnly = policyWith({
    profiles: ['api'],
    customProfiles: { api: { hosts: ['api.github.com'] } },
    credentials: ['GH_TOKEN'],
  });
  assert.deepEqual([...apiOnly.services.keys()], ['github'], 'github.com not allowed: no git route');
  const ruled = policyWith({ credentials: ['GITHUB_TOKEN'], allowEndpoints: ['github:GET:/repos/**'] });
  assert.equal(ruled.services.get('github-git')?.rules.length, 0);
  assert.ok(
    ruled.warnings.some((w) => /restrict "github" but not "github-git".*git push/.test(w)),
    'rules on the API alone leave git push open: said before the guest starts',
  );
  const both = policyWith({
    credentials: ['GITHUB_TOKEN'],
    allowEndpoints: ['github:GET:/repos/**', 'github-git:POST:/*/*/git-upload-pack'],
  });
  assert.deepEqual(both.warnings, []);
});

test('git is pointed at the github-git route with GIT_CONFIG_*; the count is always set', () => {
  const services = [builtin('github'), builtin('github-git')];
  const cred = { placeholder: 'ghp_x' };
  const env = guestVariables(services, { github: cred, 'github-git': cred }, `${GW}/`);
  const base = `url.${GW}/proxy/github-git/.insteadOf`;
  assert.equal(env.GIT_CONFIG_COUNT, '3');
  assert.deepEqual(
    [0, 1, 2].map((i) => [env[`GIT_CONFIG_KEY_${i}`], env[`GIT_CONFIG_VALUE_${i}`]]),
    [
      [base, 'https://github.com/'],
      [base, 'git@github.com:'],
      [base, 'ssh://git@github.com/'],
    ],
  );
  assert.equal(env.GIT_TERMINAL_PROMPT, '0');
  assert.equal(env.GITHUB_TOKEN, 'ghp_x');
  // without the credential (or with github.com not allowed) there is nothing to rewrite
  const apiOnly = guestVariables([builtin('github')], { github: cred }, GW);
  assert.equal(apiOnly.GIT_CONFIG_COUNT, '0');
  assert.equal(apiOnly.GIT_CONFIG_KEY_0, undefined);
  assert.equal(apiOnly.GIT_TERMINAL_PROMPT, undefined);
  const every = guestVariables(BUILTIN_SERVICES, {}, GW);
  assert.equal(every.GIT_CONFIG_COUNT, '0');
});

test("git's config variables are airlock's: a caller's --env may not set them", () => {
  for (const name of ['GIT_CONFIG_COUNT', 'GIT_CONFIG_KEY_0', 'GIT_CONFIG_VALUE_12']) {
    assert.match(reservedVariable(name, [], BUILTIN_SERVICES) ?? '', /git/, name);
  }
  for (const name of ['GIT_CONFIG_GLOBAL', 'GIT_AUTHOR_NAME', 'GIT_CONFIG_KEY_X']) {
    assert.equal(reservedVariable(name, [], BUILTIN_SERVICES), undefined, name);
  }
});
