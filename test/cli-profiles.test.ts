import assert from 'node:assert/strict';
import { test } from 'node:test';
import { profilesCommand, type ProfileListing } from '../src/cli/profiles.js';
import { AirlockError } from '../src/errors.js';
import { captureIo } from './helpers/capture-io.js';
import { tempDir } from './helpers/temp-dir.js';

test('airlock profiles --json lists presets and config profiles with their hosts', async (t) => {
  const config = tempDir(t).write(
    'c.json',
    JSON.stringify({
      profiles: { corp: { description: 'work', extends: ['github'], hosts: ['*.corp.example.com'] } },
    }),
  );
  const cap = captureIo();
  assert.equal(await profilesCommand.run(['--json', '--config', config], cap.io), 0);
  const rows = JSON.parse(cap.stdout()) as ProfileListing[];
  assert.deepEqual(
    rows.map((r) => r.name),
    ['deny-all', 'llm-only', 'github', 'open', 'corp'],
  );
  const by = (n: string) => rows.find((r) => r.name === n)!;
  assert.deepEqual(by('deny-all').hosts, []);
  assert.ok(by('llm-only').hosts.includes('api.openai.com'));
  assert.ok(!by('llm-only').hosts.includes('api.github.com'));
  assert.ok(by('github').hosts.includes('codeload.github.com'));
  assert.equal(by('open').open, true);
  assert.match(by('open').warning ?? '', /any public host/);
  assert.equal(by('github').warning, undefined);
  assert.equal(by('corp').builtin, false);
  assert.ok(by('corp').hosts.includes('*.corp.example.com'));
  assert.ok(by('corp').hosts.includes('github.com'), 'extended hosts are listed');
});

test('airlock profiles prints a table with a warning marker for open', async (t) => {
  const config = tempDir(t).write('c.json', '{}');
  const cap = captureIo();
  assert.equal(await profilesCommand.run(['--config', config], cap.io), 0);
  const text = cap.stdout();
  assert.match(text, /^! open /m);
  assert.match(text, /^ {2}github /m);
  assert.match(text, /hosts: any public host/);
  assert.match(text, /^! warning: .*any public host/m);
  assert.match(text, /release-assets\.githubusercontent\.com/);
});

test('airlock profiles: bad config, unknown flag and --help', async (t) => {
  const bad = tempDir(t).write('c.json', JSON.stringify({ profiles: { x: { hosts: ['*'] } } }));
  await assert.rejects(
    profilesCommand.run(['--config', bad], captureIo().io),
    (e: unknown) =>
      e instanceof AirlockError &&
      e.code === 'AIRLOCK_ERR_CONFIG' &&
      /profiles\.x\.hosts\[0\]: /.test(e.message),
  );
  await assert.rejects(
    profilesCommand.run(['--yaml'], captureIo().io),
    (e: unknown) => e instanceof AirlockError && e.code === 'AIRLOCK_ERR_USAGE',
  );
  const cap = captureIo();
  assert.equal(await profilesCommand.run(['--help'], cap.io), 0);
  assert.match(cap.stdout(), /Usage: airlock profiles/);
});
