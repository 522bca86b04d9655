import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readlinkSync } from 'node:fs';
import { test } from 'node:test';
import { AirlockError } from '../src/errors.js';
import { addNetns, deleteNetns, inNetns, listNetns } from '../src/net/netns.js';
import { nftApply, nftQuery } from '../src/net/nft.js';
import { Rtnetlink, withRtnetlink } from '../src/net/rtnetlink.js';
import { needsRoot } from './helpers/sandbox-bench.js';

// airlock's own kernel calls (net/libc.ts, netns.ts, rtnetlink.ts, nft.ts): what `ip` and `nft`
// did for it before, with their errors named as those programs would.

const here = () => readlinkSync('/proc/thread-self/ns/net');

test('a failed netlink request names the request and the errno', () => {
  const missing = `zz-${randomBytes(3).toString('hex')}`;
  assert.throws(
    () => withRtnetlink((nl) => nl.linkIndex(missing)),
    (e: unknown) =>
      e instanceof AirlockError &&
      e.code === 'AIRLOCK_ERR_NET_SETUP' &&
      e.message === `finding link ${missing} failed: ENODEV`,
  );
  // the socket answers the next request as usual
  const nl = new Rtnetlink();
  try {
    assert.equal(nl.linkIndex('lo'), 1);
  } finally {
    nl.close();
  }
});

test('entering a namespace that does not exist fails naming it, and the thread stays home', () => {
  const home = here();
  assert.throws(
    () => inNetns('airlock-nosuchns', () => 1),
    (e: unknown) =>
      e instanceof AirlockError && /open\(\/run\/netns\/airlock-nosuchns\) failed: ENOENT/.test(e.message),
  );
  assert.equal(here(), home);
});

test(
  'a namespace made in-process is one `ip netns` sees and enters; the thread returns home, also when the work inside throws',
  { skip: needsRoot },
  (t) => {
    const name = `airlock-zzffi${randomBytes(2).toString('hex')}`;
    const home = here();
    addNetns(name);
    t.after(() => deleteNetns(name));
    assert.equal(here(), home, 'back home after making it');
    assert.ok(listNetns().includes(name));
    assert.match(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }), new RegExp(`^${name}\\b`, 'm'));
    const inside = execFileSync('ip', ['netns', 'exec', name, 'readlink', '/proc/self/ns/net'], {
      encoding: 'utf8',
    });
    assert.equal(
      inNetns(name, here),
      inside.trim(),
      'inNetns stands in the same namespace as `ip netns exec`',
    );
    assert.notEqual(inside.trim(), home);
    assert.throws(
      () =>
        inNetns(name, () => {
          throw new Error('inside');
        }),
      /inside/,
    );
    assert.equal(here(), home, 'back home after a throw inside');
    assert.throws(() => addNetns(name), /EEXIST/, 'a name is made once');
    deleteNetns(name);
    assert.ok(!listNetns().includes(name));
    deleteNetns(name); // gone already: nothing to do
  },
);

test('nftables errors come back in nft’s own words, and nothing is applied', { skip: needsRoot }, () => {
  const table = `airlock_zzffi_${randomBytes(2).toString('hex')}`;
  assert.throws(
    () =>
      nftApply(`table inet ${table} {\n  chain c { type filter hook input priority 0; policy acept; }\n}\n`),
    (e: unknown) =>
      e instanceof AirlockError && e.code === 'AIRLOCK_ERR_NFT_APPLY' && /syntax error|acept/.test(e.message),
  );
  assert.equal(nftQuery(['list', 'table', 'inet', table]), null, 'the failed transaction left no table');
  const echo = nftApply(`add table inet ${table}\n`, undefined, true);
  try {
    assert.match(echo, new RegExp(`add table inet ${table}`), 'the echo is what the kernel committed');
    assert.match(nftQuery(['-j', 'list', 'tables']) ?? '', new RegExp(`"name": "${table}"`));
  } finally {
    nftApply(`delete table inet ${table}\n`);
  }
});

test(
  'signals arriving all the while interrupt no kernel conversation: every nftables and netlink call completes',
  { skip: needsRoot },
  async (t) => {
    // a handled signal (the daemon's SIGCHLD for a guest that ended, a terminal's SIGWINCH)
    // interrupts a wait for the kernel's answer; libnftables's select() is never restarted
    const name = `airlock-zzsig${randomBytes(2).toString('hex')}`;
    addNetns(name);
    t.after(() => deleteNetns(name));
    const noop = () => undefined;
    process.on('SIGWINCH', noop);
    t.after(() => process.off('SIGWINCH', noop));
    const storm = spawn('sh', ['-c', `while kill -WINCH ${process.pid} 2>/dev/null; do :; done`], {
      stdio: 'ignore',
    });
    // not waited for: a storm this dense fills libuv's signal pipe, so this process may never
    // hear of its SIGCHLD (the kernel's SIGKILL needs no witness)
    storm.unref();
    t.after(() => storm.kill('SIGKILL'));
    await new Promise((resolve) => setTimeout(resolve, 100)); // the storm is under way
    const ruleset = 'table inet zzsig {\n chain c {\n  type filter hook input priority 0;\n }\n}\n';
    for (let i = 0; i < 300; i++) {
      nftApply(`${ruleset}delete table inet zzsig\n`, name);
      withRtnetlink((nl) => nl.linkIndex('lo'));
    }
    assert.equal(storm.exitCode, null, 'the storm lasted the whole loop');
  },
);
