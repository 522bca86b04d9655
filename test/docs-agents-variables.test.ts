import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BUILTIN_SERVICES } from '../src/catalogue/builtin.js';
import { guestVariables, proxyVariables } from '../src/proxy/reverse/guest-variables.js';
import { readDoc } from './helpers/docs.js';

const doc = readDoc('docs/agents.md');
const GATEWAY = 'http://10.209.0.1:9090';

/** Every variable airlock can set in a guest: each built-in service granted, the forward proxy, its own. */
const credentials = Object.fromEntries(BUILTIN_SERVICES.map((s) => [s.name, { placeholder: 'x' }]));
const SET: Record<string, string> = {
  ...guestVariables(BUILTIN_SERVICES, credentials, GATEWAY),
  ...proxyVariables(GATEWAY),
  AIRLOCK_SANDBOX_ID: 'x',
  AIRLOCK_PROXY_URL: GATEWAY,
};

/** The services with a credential of their own (a companion such as github-git is in the git table). */
const OWNERS = BUILTIN_SERVICES.filter((s) => s.credentialOf === undefined);

/** The rows of the "What airlock sets" table: service, credential variables, base-URL variable, value. */
function tableRows(): string[][] {
  const section = doc.slice(doc.indexOf('## What airlock sets'), doc.indexOf('## Before you start'));
  return [...section.matchAll(/^\|(.+)\|$/gm)]
    .map((m) => m[1]!.split('|').map((c) => c.trim()))
    .filter((cells) => OWNERS.some((s) => s.name === cells[0]));
}
const names = (cell: string) => [...cell.matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1]!);

test('docs/agents.md lists the variables airlock sets for every built-in service, with their values', () => {
  const rows = tableRows();
  assert.deepEqual(
    rows.map((r) => r[0]),
    OWNERS.map((s) => s.name),
  );
  for (const [service, creds, baseVar, value] of rows) {
    const s = BUILTIN_SERVICES.find((x) => x.name === service)!;
    assert.deepEqual(names(creds!), [s.envVar, ...s.aliases], service);
    assert.deepEqual(
      names(baseVar!),
      s.baseUrlVariables.map((v) => v.name),
      service,
    );
    assert.equal(value, `\`${SET[s.baseUrlVariables[0]!.name]}\``, service);
  }
});

test('docs/agents.md says "not set by airlock" of exactly the key and URL variables airlock does not set', () => {
  const line = /^Not set by airlock: (.*)$/m.exec(doc)?.[1];
  assert.ok(line, 'control: the "Not set by airlock" line');
  const notSet = new Set(names(line));
  const keyLike = /_(API_KEY|KEY|TOKEN|BASE_URL|API_BASE|BASE|URL|ENDPOINT|PROXY)$/i;
  const mentioned = new Set(names(doc).filter((n) => keyLike.test(n)));
  assert.ok(mentioned.has('OPENAI_API_BASE') && mentioned.has('OPENAI_BASE_URL'), 'control: names found');
  for (const name of mentioned) {
    if (name in SET) assert.ok(!notSet.has(name), `${name} is set by airlock`);
    else
      assert.ok(notSet.has(name), `${name} is not set by airlock: list it in the "Not set by airlock" line`);
  }
});
