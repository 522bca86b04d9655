import { Transform, type TransformCallback } from 'node:stream';

/** A real secret and what replaces it wherever an upstream echoes it. */
export interface SecretReplacement {
  secret: string;
  placeholder: string;
}

interface Pair {
  secret: Buffer;
  placeholder: Buffer;
}

/** Leftmost occurrence of any secret in `buf` at or after `from`. */
function firstMatch(
  buf: Buffer,
  from: number,
  pairs: readonly Pair[],
): { at: number; pair: Pair } | undefined {
  let best: { at: number; pair: Pair } | undefined;
  for (const pair of pairs) {
    const at = buf.indexOf(pair.secret, from);
    if (at >= 0 && (best === undefined || at < best.at)) best = { at, pair };
  }
  return best;
}

/** Length of the longest end of `buf[from..]` that is the start of some secret (it may complete in the next chunk). */
function pendingPrefix(buf: Buffer, from: number, pairs: readonly Pair[]): number {
  const max = Math.min(buf.length - from, Math.max(0, ...pairs.map((p) => p.secret.length - 1)));
  for (let k = max; k > 0; k--) {
    const tail = buf.subarray(buf.length - k);
    if (pairs.some((p) => p.secret.length > k && p.secret.subarray(0, k).equals(tail))) return k;
  }
  return 0;
}

/**
 * A byte stream that replaces every secret with its placeholder, also when one straddles a
 * chunk boundary. It holds back only bytes that could still become a secret (usually none),
 * so each SSE event passes as soon as it arrives.
 */
export function createSecretScrubber(replacements: readonly SecretReplacement[]): Transform {
  const pairs: Pair[] = replacements
    .filter((r) => r.secret.length > 0)
    .map((r) => ({ secret: Buffer.from(r.secret), placeholder: Buffer.from(r.placeholder) }));
  let held: Buffer = Buffer.alloc(0);

  function scrub(chunk: Buffer, final: boolean): Buffer {
    const buf = held.length > 0 ? Buffer.concat([held, chunk]) : chunk;
    const out: Buffer[] = [];
    let pos = 0;
    for (let m = firstMatch(buf, pos, pairs); m; m = firstMatch(buf, pos, pairs)) {
      out.push(buf.subarray(pos, m.at), m.pair.placeholder);
      pos = m.at + m.pair.secret.length;
    }
    const keep = final ? 0 : pendingPrefix(buf, pos, pairs);
    out.push(buf.subarray(pos, buf.length - keep));
    held = Buffer.from(buf.subarray(buf.length - keep)); // a copy: don't pin the whole chunk
    return out.length === 1 ? out[0]! : Buffer.concat(out);
  }

  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      const out = scrub(chunk, false);
      callback(null, out.length > 0 ? out : undefined);
    },
    flush(callback: TransformCallback) {
      const out = scrub(Buffer.alloc(0), true);
      callback(null, out.length > 0 ? out : undefined);
    },
  });
}

/** Replaces every secret in a header value (or each value of a repeated header). */
export function scrubHeaderValue<T extends string | string[]>(
  value: T,
  replacements: readonly SecretReplacement[],
): T {
  const one = (v: string) =>
    replacements.reduce((acc, r) => (r.secret ? acc.split(r.secret).join(r.placeholder) : acc), v);
  return (Array.isArray(value) ? value.map(one) : one(value)) as T;
}
