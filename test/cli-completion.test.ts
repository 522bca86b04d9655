import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { captureIo } from './helpers/cli.js';
import { main } from '../src/cli/main.js';
import { findProgram } from '../src/net/run.js';
import { tempDir } from './helpers/temp-dir.js';

async function script(shell: string, config: string): Promise<string> {
  const io = captureIo({ PATH: process.env.PATH });
  assert.equal(await main(['completion', shell, '--config', config], io), 0, io.err());
  return io.out();
}

/** What bash completes for a command line, with the script sourced (cursor at the end). */
function complete(source: string, line: string[]): string[] {
  const program = `${source}
COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _airlock; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const out = execFileSync('bash', ['--noprofile', '--norc', '-c', program, 'bash', ...line], {
    encoding: 'utf8',
  });
  return out.split('\n').filter(Boolean).sort();
}

test('airlock completion bash completes commands, flags per command, profiles and credentials', async (t) => {
  const config = tempDir(t).write(
    'config.json',
    JSON.stringify({
      profiles: { 'team-llm': { hosts: ['api.corp.example.com'] } },
      services: [
        {
          name: 'corp',
          envVar: 'CORP_TOKEN',
          upstream: 'https://api.corp.example.com',
          carrier: { kind: 'header', header: 'X-Corp-Key', template: '{secret}' },
        },
      ],
    }),
  );
  const bash = await script('bash', config);
  assert.deepEqual(complete(bash, ['airlock', 'pro']), ['profiles']);
  assert.deepEqual(complete(bash, ['airlock', 'c']), ['completion', 'create']);
  assert.deepEqual(complete(bash, ['airlock', 'run', '--p']), ['--pids', '--profile']);
  assert.deepEqual(complete(bash, ['airlock', 'doctor', '--']), [
    '--config',
    '--help',
    '--json',
    '--selftest',
  ]);
  assert.deepEqual(complete(bash, ['airlock', 'run', '--profile', '']).slice().sort(), [
    'deny-all',
    'github',
    'llm-only',
    'open',
    'team-llm',
  ]);
  assert.deepEqual(complete(bash, ['airlock', 'run', '--cred', 'CO']), ['CORP_TOKEN']);
  assert.ok(complete(bash, ['airlock', 'run', '--cred', 'OPENAI']).includes('OPENAI_API_KEY'));
  assert.deepEqual(complete(bash, ['airlock', 'help', 'ex']), ['exec']);
  assert.deepEqual(complete(bash, ['airlock', 'completion', '']), ['bash', 'zsh']);
  // after --, the words are the guest's: airlock offers nothing of its own
  assert.deepEqual(complete(bash, ['airlock', 'run', '--', '--p']), []);
});

/** zsh: the script's function is run with compadd and _files stubbed. */
const zsh = findProgram('zsh');

function zshComplete(source: string, line: string[], prefix: string): string[] {
  const program = `${source}
compadd() { print -l -- "\${@:2}"; }; _files() { print FILES; }
words=("$@"); CURRENT=$#; PREFIX=${JSON.stringify(prefix)}; _airlock`;
  const out = execFileSync(zsh!, ['-f', '-c', program, 'zsh', ...line], { encoding: 'utf8' });
  return out.split('\n').filter(Boolean).sort();
}

test('airlock completion zsh prints a compdef script with the same words', async (t) => {
  const config = tempDir(t).write('config.json', '{}');
  const source = await script('zsh', config);
  assert.match(source, /^#compdef airlock\n/);
  assert.match(source, /--profile\) compadd -- deny-all llm-only github open;/);
  assert.match(source, /run\) compadd -- --profile --cred /);
  const io = captureIo();
  assert.equal(await main(['completion', 'fish'], io), 125);
  assert.match(io.err(), /give one shell, bash or zsh/);
});

// scripts/install.sh --with-test-tools installs zsh: no skip
test('the zsh script completes in zsh', async (t) => {
  assert.ok(zsh !== null, 'zsh is installed (scripts/install.sh --with-test-tools)');
  const source = await script('zsh', tempDir(t).write('config.json', '{}'));
  assert.deepEqual(zshComplete(source, ['airlock', 'run', '--profile', ''], ''), [
    'deny-all',
    'github',
    'llm-only',
    'open',
  ]);
  assert.ok(zshComplete(source, ['airlock', 'run', '--p'], '--p').includes('--pids'));
  assert.deepEqual(zshComplete(source, ['airlock', 'run', '--', 'x'], 'x'), ['FILES']);
});
