import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeFrame, FRAME, FrameDecoder, MAX_PAYLOAD } from '../src/daemon/frames.js';

const frames = [
  encodeFrame(FRAME.stdout, 'hello'),
  encodeFrame(FRAME.stdinEof),
  encodeFrame(FRAME.stderr, Buffer.alloc(70_000, 7)),
  encodeFrame(FRAME.signal, 'SIGINT'),
  encodeFrame(FRAME.exit, '3'),
];
const stream = Buffer.concat(frames);

function decodeIn(chunks: Buffer[]) {
  const decoder = new FrameDecoder();
  const out = chunks.flatMap((c) => decoder.push(c));
  return { out: out.map((f) => [f.type, f.payload.toString('hex')]), pending: decoder.pending };
}

const expected = [
  [FRAME.stdout, Buffer.from('hello').toString('hex')],
  [FRAME.stdinEof, ''],
  [FRAME.stderr, Buffer.alloc(70_000, 7).toString('hex')],
  [FRAME.signal, Buffer.from('SIGINT').toString('hex')],
  [FRAME.exit, Buffer.from('3').toString('hex')],
];

test('a frame is 1 byte type, 4 bytes big-endian length, payload', () => {
  assert.deepEqual([...encodeFrame(FRAME.exit, '130')], [5, 0, 0, 0, 3, 0x31, 0x33, 0x30]);
});

test('frames merged into one chunk come out whole and in order', () => {
  assert.deepEqual(decodeIn([stream]), { out: expected, pending: 0 });
});

test('frames split at every byte come out the same', () => {
  const bytes = [...stream].map((b) => Buffer.from([b]));
  assert.deepEqual(decodeIn(bytes), { out: expected, pending: 0 });
});

test('frames split at odd places (inside headers and payloads) come out the same', () => {
  for (const size of [2, 3, 4, 6, 7, 4096, 65_537]) {
    const chunks: Buffer[] = [];
    for (let i = 0; i < stream.length; i += size) chunks.push(stream.subarray(i, i + size));
    assert.deepEqual(decodeIn(chunks), { out: expected, pending: 0 }, `chunks of ${size}`);
  }
});

test('an unfinished frame waits for its rest', () => {
  const decoder = new FrameDecoder();
  const frame = encodeFrame(FRAME.stdout, 'abc');
  assert.deepEqual(decoder.push(frame.subarray(0, 6)), []);
  assert.equal(decoder.pending, 6);
  assert.deepEqual(
    decoder.push(frame.subarray(6)).map((f) => f.payload.toString()),
    ['abc'],
  );
});

test('an unknown type or an oversized length is refused', () => {
  assert.throws(() => new FrameDecoder().push(Buffer.from([99, 0, 0, 0, 0])), /unknown frame type 99/);
  const header = Buffer.alloc(5);
  header.writeUInt8(FRAME.stdin, 0);
  header.writeUInt32BE(MAX_PAYLOAD + 1, 1);
  assert.throws(() => new FrameDecoder().push(header), /over/);
});
