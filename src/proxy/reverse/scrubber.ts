import { Transform, type TransformCallback } from 'node:stream';
import type { SecretReplacement } from './secret-forms.js';

interface Form {
  find: Buffer;
  replace: Buffer;
}

const BACKSLASH = 0x5c;
const HEX4 = /^[0-9a-fA-F]{4}$/;

/**
 * The bytes the forms are searched in: `buf` with the JSON escapes of characters that occur
 * in some form decoded (`\/`, `\"`, `\\`, `\u0041`), so an echo inside a JSON string is found
 * however its encoder spelt it. `map[i]` is where view byte `i` starts in `buf` (null = the
 * view is `buf` itself: the common case, no copy); `end` is how much of `buf` the view covers
 * (less than all when `buf` ends inside an escape that the next chunk completes).
 */
interface View {
  bytes: Buffer;
  map: Int32Array | null;
  end: number;
}

function canonical(buf: Buffer, chars: ReadonlySet<number>, final: boolean): View {
  let i = buf.indexOf(BACKSLASH);
  if (i < 0) return { bytes: buf, map: null, end: buf.length };
  let out: Buffer | undefined;
  let map: Int32Array | undefined;
  let o = 0;
  let copied = 0;
  const copyTo = (to: number) => {
    for (let s = copied; s < to; s++, o++) {
      out![o] = buf[s]!;
      map![o] = s;
    }
    copied = to;
  };
  const decode = (at: number, length: number, byte: number) => {
    if (!out) {
      out = Buffer.allocUnsafe(buf.length);
      map = new Int32Array(buf.length + 1);
    }
    copyTo(at);
    out[o] = byte;
    map![o] = at;
    o++;
    copied = at + length;
  };
  let end = buf.length;
  while (i >= 0) {
    const c = buf[i + 1];
    const need = c === 0x75 ? 6 : 2; // \uXXXX or \x
    if (i + need > buf.length) {
      if (!final) end = i; // the next chunk completes this escape
      break;
    }
    let length = 2;
    if (c === 0x75) {
      const hex = buf.toString('latin1', i + 2, i + 6);
      if (HEX4.test(hex)) {
        length = 6;
        const code = parseInt(hex, 16);
        if (chars.has(code)) decode(i, 6, code);
      }
    } else if (chars.has(c!)) {
      decode(i, 2, c!);
    }
    i = buf.indexOf(BACKSLASH, i + length);
  }
  if (!out) return { bytes: buf.subarray(0, end), map: null, end };
  copyTo(end);
  map![o] = end;
  return { bytes: out.subarray(0, o), map: map!.subarray(0, o + 1), end };
}

/** Matches every form of every secret in byte buffers, chunk by chunk. */
class Matcher {
  readonly #forms: Form[];
  /** ASCII characters occurring in some form: only their escapes are decoded */
  readonly #chars = new Set<number>();
  readonly #firstBytes = new Set<number>();
  readonly #maxLength: number;

  constructor(replacements: readonly SecretReplacement[], lowercase: boolean) {
    const fold = (s: string) => (lowercase ? s.toLowerCase() : s);
    const byFind = new Map<string, Form>();
    for (const r of replacements) {
      if (r.secret === '' || byFind.has(fold(r.secret))) continue;
      byFind.set(fold(r.secret), {
        find: Buffer.from(fold(r.secret)),
        replace: Buffer.from(fold(r.placeholder)),
      });
    }
    // longest first: where two forms start at one byte, the longer one is replaced whole
    this.#forms = [...byFind.values()].sort((a, b) => b.find.length - a.find.length);
    for (const f of this.#forms) {
      this.#firstBytes.add(f.find[0]!);
      for (const b of f.find) if (b < 0x80) this.#chars.add(b);
    }
    this.#maxLength = Math.max(0, ...this.#forms.map((f) => f.find.length));
  }

  get empty(): boolean {
    return this.#forms.length === 0;
  }

  #first(view: Buffer, from: number): { at: number; form: Form } | undefined {
    let best: { at: number; form: Form } | undefined;
    for (const form of this.#forms) {
      const at = view.indexOf(form.find, from);
      if (at >= 0 && (best === undefined || at < best.at)) best = { at, form };
    }
    return best;
  }

  /** Length of the longest end of `view[from..]` that is the start of some form (it may complete in the next chunk). */
  #pending(view: Buffer, from: number): number {
    for (let p = Math.max(from, view.length - this.#maxLength + 1); p < view.length; p++) {
      if (!this.#firstBytes.has(view[p]!)) continue;
      const tail = view.length - p;
      if (this.#forms.some((f) => f.find.length > tail && view.compare(f.find, 0, tail, p) === 0))
        return tail;
    }
    return 0;
  }

  /**
   * Replaces every form in `buf`. Unless `final`, the end of `buf` that could still become a
   * form (or is an unfinished escape) is not emitted: `keep` is where it starts.
   */
  scan(buf: Buffer, final: boolean): { parts: Buffer[]; keep: number } {
    const view = canonical(buf, this.#chars, final);
    const at = (i: number) => (view.map ? view.map[i]! : i);
    const parts: Buffer[] = [];
    let source = 0;
    let pos = 0;
    for (let m = this.#first(view.bytes, pos); m; m = this.#first(view.bytes, pos)) {
      const end = m.at + m.form.find.length;
      parts.push(buf.subarray(source, at(m.at)), m.form.replace);
      source = at(end);
      pos = end;
    }
    const keep = final
      ? buf.length
      : Math.min(at(view.bytes.length - this.#pending(view.bytes, pos)), view.end);
    parts.push(buf.subarray(source, keep));
    return { parts, keep };
  }
}

/**
 * A byte stream that replaces every form of every secret with the same form of its
 * placeholder, also when one straddles a chunk boundary or is spelt with JSON escapes. It
 * holds back only bytes that could still become a secret (usually none), so each SSE event
 * passes as soon as it arrives.
 */
export function createSecretScrubber(replacements: readonly SecretReplacement[]): Transform {
  const matcher = new Matcher(replacements, false);
  let held: Buffer = Buffer.alloc(0);

  function scrub(chunk: Buffer, final: boolean): Buffer | undefined {
    const buf = held.length > 0 ? Buffer.concat([held, chunk]) : chunk;
    const { parts, keep } = matcher.scan(buf, final);
    held = keep < buf.length ? Buffer.from(buf.subarray(keep)) : Buffer.alloc(0); // a copy: don't pin the chunk
    const out = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    return out.length > 0 ? out : undefined;
  }

  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      callback(null, matcher.empty ? chunk : scrub(chunk, false));
    },
    flush(callback: TransformCallback) {
      callback(null, matcher.empty ? undefined : scrub(Buffer.alloc(0), true));
    },
  });
}

/** Scrubs header text: values as sent; names compared case-insensitively (they arrive lowercased). */
export function createHeaderScrubber(replacements: readonly SecretReplacement[]): {
  name(name: string): string;
  value<T extends string | string[]>(value: T): T;
} {
  const values = new Matcher(replacements, false);
  const names = new Matcher(replacements, true);
  const run = (matcher: Matcher, text: string) => {
    if (matcher.empty) return text;
    const buf = Buffer.from(text, 'latin1');
    const { parts } = matcher.scan(buf, true);
    return parts.length === 1 ? text : Buffer.concat(parts).toString('latin1');
  };
  return {
    name: (name) => run(names, name.toLowerCase()),
    value: <T extends string | string[]>(value: T) =>
      (Array.isArray(value) ? value.map((v) => run(values, v)) : run(values, value)) as T,
  };
}
