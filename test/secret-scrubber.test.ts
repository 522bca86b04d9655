import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { createSecretScrubber } from '../src/proxy/reverse/scrubber.js';

async function run(
  chunks: string[],
  replacements = [{ secret: 'SECRETKEY', placeholder: 'pl' }],
): Promise<string> {
  const scrubber = createSecretScrubber(replacements).stream();
  const out: Buffer[] = [];
  scrubber.on('data', (c: Buffer) => out.push(c));
  for (const c of chunks) scrubber.write(Buffer.from(c));
  scrubber.end();
  await once(scrubber, 'end');
  return Buffer.concat(out).toString();
}

test('a secret is replaced wherever the chunk boundaries fall', async () => {
  const text = 'aa SECRETKEY bb SECRETKEYSECRETKEY cc';
  const expected = 'aa pl bb plpl cc';
  for (let i = 0; i <= text.length; i++) {
    assert.equal(await run([text.slice(0, i), text.slice(i)]), expected, `split at ${i}`);
    for (let j = i; j <= text.length; j += 3) {
      assert.equal(
        await run([text.slice(0, i), text.slice(i, j), text.slice(j)]),
        expected,
        `split at ${i},${j}`,
      );
    }
  }
  assert.equal(await run([...text]), expected, 'one byte at a time');
});

test('near-misses and several secrets', async () => {
  assert.equal(await run(['SECRETKE', 'Y']), 'pl');
  assert.equal(await run(['SECRETKE', 'X']), 'SECRETKEX');
  assert.equal(await run(['SECSECRETKEY']), 'SECpl');
  assert.equal(await run(['SECRETKE']), 'SECRETKE', 'a held-back prefix is flushed at the end');
  const two = [
    { secret: 'alpha-secret', placeholder: 'A' },
    { secret: 'beta-secret', placeholder: 'B' },
  ];
  assert.equal(await run(['x alpha-sec', 'ret y beta-', 'secret z'], two), 'x A y B z');
});

test('nothing is held back unless it could start a secret, so each event passes at once', async () => {
  const scrubber = createSecretScrubber([{ secret: 'SECRETKEY', placeholder: 'pl' }]).stream();
  const got: string[] = [];
  scrubber.on('data', (c: Buffer) => got.push(c.toString()));
  scrubber.write(Buffer.from('data: {"n":1}\n\n'));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(got, ['data: {"n":1}\n\n']);
  scrubber.write(Buffer.from('data: SECR'));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(got, ['data: {"n":1}\n\n', 'data: '], 'only the possible secret start waits');
  scrubber.end(Buffer.from('ETKEY\n\n'));
  await once(scrubber, 'end');
  assert.equal(got.join(''), 'data: {"n":1}\n\ndata: pl\n\n');
});

test('JSON spellings of a secret are replaced at every split; other escapes are left alone', async () => {
  const secret = 'a/b"c\\d+e';
  const replacements = [{ secret, placeholder: 'PL/ACE' }];
  // how a JSON encoder may write it: `\/`, `\"`, `\\`, and any character as \uXXXX
  const spelt = String.raw`"a\/b\"c\\d\u002be"`;
  const text = `x ${spelt} y \n z`;
  for (let i = 0; i <= text.length; i++) {
    assert.equal(
      await run([text.slice(0, i), text.slice(i)], replacements),
      'x "PL/ACE" y \n z',
      `split at ${i}`,
    );
  }
  assert.equal(await run([...text], replacements), 'x "PL/ACE" y \n z', 'one byte at a time');
  // `\n` is a newline, not an `n`: it never completes a secret with an `n` there
  assert.equal(await run([String.raw`a\nKEY`], [{ secret: 'anKEY', placeholder: 'p' }]), String.raw`a\nKEY`);
  // an escape cut by a chunk boundary is held until it is whole, not passed on half-read
  assert.equal(await run([String.raw`a\u00`, String.raw`2fb`], [{ secret: 'a/b', placeholder: 'p' }]), 'p');
});
