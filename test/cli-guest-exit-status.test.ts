import assert from 'node:assert/strict';
import { mkdirSync, realpathSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { findProgram } from '../src/net/run.js';
import { REQUIRED_TOOLS } from '../src/sandbox/required-tools.js';
import { leftovers } from './helpers/fake-internet.js';
import { runCli } from './helpers/cli.js';
import { needsRoot, tempHome } from './helpers/sandbox-bench.js';

test(
  "a guest command's status passes through; 126 and 127 come with airlock's own words",
  { skip: needsRoot },
  async (t) => {
    const env = { AIRLOCK_HOME: tempHome(t) };
    const run = (...cmd: string[]) => runCli(['run', '--no-workdir', '--', ...cmd], env);

    assert.equal((await run('sh', '-c', 'exit 3')).status, 3);

    const missing = await run('no-such-command-xyz', '--flag');
    assert.equal(missing.status, 127);
    assert.equal(missing.stderr, 'airlock: no-such-command-xyz: command not found\n');
    const missingPath = await run('/nonexistent/tool');
    assert.equal(missingPath.status, 127);
    assert.equal(missingPath.stderr, 'airlock: /nonexistent/tool: command not found\n');

    const notExecutable = await run('/etc/passwd');
    assert.equal(notExecutable.status, 126);
    assert.equal(notExecutable.stderr, 'airlock: /etc/passwd: cannot run: permission denied\n');
    const directory = await run('/usr');
    assert.equal(directory.status, 126);
    assert.equal(directory.stderr, 'airlock: /usr: cannot run: is a directory\n');

    // the command keeps its own argv (the launcher execs it, it does not wrap it)
    const argv = await run('sh', '-c', 'cat /proc/$$/cmdline | tr "\\0" " "', 'zero');
    assert.equal(argv.status, 0, argv.stderr);
    assert.equal(argv.stdout, 'sh -c cat /proc/$$/cmdline | tr "\\0" " " zero ');
    assert.deepEqual(await leftovers(), { netns: [], links: [], elements: 0, cgroups: [] });
  },
);

test(
  'with no bash (nor sh) on PATH a run works: programs are run where the guest can see them',
  { skip: needsRoot },
  async (t) => {
    const home = tempHome(t);
    // a PATH of links to just the programs airlock drives, in a folder guests do not see
    const bin = join(home, 'bin');
    mkdirSync(bin);
    for (const tool of Object.keys(REQUIRED_TOOLS))
      symlinkSync(realpathSync(findProgram(tool)!), join(bin, tool));
    const env = { AIRLOCK_HOME: home, PATH: bin };
    const ok = await runCli(['run', '--no-workdir', '--', '/usr/bin/env'], env);
    assert.equal(ok.status, 0, ok.stderr);
    assert.doesNotMatch(ok.stderr, /teardown|execvp/);
    assert.deepEqual(await leftovers(), { netns: [], links: [], elements: 0, cgroups: [] });
  },
);
