import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../src/config/index.js';
import { main } from '../src/cli/main.js';
import { AirlockError } from '../src/errors.js';
import { captureIo } from './helpers/cli.js';
import { tempDir } from './helpers/temp-dir.js';

/** A file with problems of every kind: schema, cross-field, and a CA file that is not there. */
const BAD = {
  pool: '10.0.0.0/33',
  limits: { pids: 'many' },
  bogus: 1,
  credentials: { openai_api_key: 'env:X' },
  upstreamCa: ['/nonexistent/ca.pem'],
  profiles: { mine: { hosts: ['*'] } },
  services: [
    { name: 'broken', envVar: 'BROKEN_TOKEN' },
    {
      name: 'openai',
      envVar: 'CORP_TOKEN',
      upstream: 'https://api.corp.example.com',
      carrier: { kind: 'header', header: 'X-Key', template: '{secret}' },
    },
  ],
};

const EXPECTED = [
  'services[0].upstream: ',
  'services[0].carrier: ',
  'limits.pids: ',
  '(root): Unrecognized key: "bogus"',
  'pool: address pool "10.0.0.0/33"',
  'credentials.openai_api_key: no service takes openai_api_key (did you mean OPENAI_API_KEY? see airlock services)',
  'profiles.mine.hosts[0]: ',
  'upstreamCa[0]: no such file /nonexistent/ca.pem',
];

test('every config problem is reported in one pass, each with its path', (t) => {
  const file = tempDir(t).write('config.json', JSON.stringify(BAD));
  let error: unknown;
  try {
    loadConfig(file);
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof AirlockError && error.code === 'AIRLOCK_ERR_CONFIG', String(error));
  const lines = error.message.split('\n').slice(1);
  for (const start of EXPECTED) {
    assert.ok(
      lines.some((l) => l.startsWith(start)),
      `missing "${start}…" in:\n${lines.join('\n')}`,
    );
  }
  // the clash of the second service is reported with its path
  assert.ok(
    lines.some((l) => l.startsWith('services[1].name: name "openai" already belongs')),
    lines.join('\n'),
  );
});

test('doctor --config FILE validates a file: every problem, exit 125; a valid one exits 0', async (t) => {
  const dir = tempDir(t);
  const bad = dir.write('bad.json', JSON.stringify(BAD));
  const io = captureIo();
  assert.equal(await main(['doctor', '--config', bad], io), 125, io.err());
  for (const start of EXPECTED)
    assert.match(io.out(), new RegExp(`^ {6}${start.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'm'));
  const json = captureIo();
  assert.equal(await main(['doctor', '--config', bad, '--json'], json), 125);
  const report = JSON.parse(json.out()) as { ok: boolean; problems: string[] };
  assert.equal(report.ok, false);
  assert.equal(report.problems.length, EXPECTED.length + 1);

  const good = dir.write('good.json', JSON.stringify({ pool: '10.77.0.0/16' }));
  const ok = captureIo();
  assert.equal(await main(['doctor', '--config', good], ok), 0, ok.out());
  assert.equal(ok.out(), `ok  config ${good} is valid\n`);
});
