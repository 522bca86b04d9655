import assert from 'node:assert/strict';
import { test } from 'node:test';
import { docFiles, prose, readDoc } from './helpers/docs.js';

const BYTES_IN = /`(bytesIn|bytes_in)`/;
const BYTES_OUT = /`(bytesOut|bytes_out)`/;
const GUEST_SENT = /\b(request|sent|upload|from the guest|left the sandbox)\b/;
const GUEST_GOT = /\b(response|received|download|to the guest|entered)\b/;

/**
 * The code counts `bytesIn` as what the guest sent and `bytesOut` as what it received
 * (test/forward-proxy-byte-counts.test.ts). Wherever a document explains both, the words for
 * "sent" must come in the same order as the names: bytes in first ⇔ "sent" first.
 */
test('the docs describe bytes in as what the guest sent and bytes out as what it received', () => {
  const wrong: string[] = [];
  let explained = 0;
  for (const file of docFiles()) {
    const text = prose(readDoc(file)).replace(/\s+/g, ' ');
    for (const m of text.matchAll(/`(bytesIn|bytes_in|bytesOut|bytes_out)`/g)) {
      const span = text.slice(m.index, m.index + 200);
      const inAt = span.search(BYTES_IN);
      const outAt = span.search(BYTES_OUT);
      const sentAt = span.search(GUEST_SENT);
      const gotAt = span.search(GUEST_GOT);
      if (inAt < 0 || outAt < 0 || sentAt < 0 || gotAt < 0) continue;
      explained++;
      if (inAt < outAt !== sentAt < gotAt) wrong.push(`${file}: ${span.slice(0, 120)}`);
    }
  }
  assert.ok(explained >= 2, `control: explanations found (${explained})`);
  assert.deepEqual(wrong, []);
});
