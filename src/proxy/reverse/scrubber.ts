import { Transform, type TransformCallback } from 'node:stream';
import type { SecretReplacement } from './secret-forms.js';

interface Form {
  find: Buffer;
  replace: Buffer;
  /** where its anchor starts in `find` */
  anchorAt: number;
}

/**
 * A form's longest run of letters and digits, as is and written all in `\uXXXX` (lower and
 * upper case hex): every spelling of the form holds one of these, since JSON encoders escape
 * letters and digits all or none. The forms of one key mostly share it (percent-encoding
 * leaves letters and digits alone), so each is searched for once.
 */
interface Anchor {
  spellings: Buffer[];
  /** the spellings as latin1 text, for header values */
  texts: string[];
  forms: Form[];
}

const BACKSLASH = 0x5c;
/** the longest source spelling of one character: `\uXXXX` */
const MAX_UNIT = 6;
/** Escapes whose decoded character is the escaped one (`\n` is a newline, not an `n`): `/`, `"`, `\`. */
const SELF_ESCAPES = new Set([0x2f, 0x22, 0x5c]);
const ALNUM = /[A-Za-z0-9]+/g;

/** The value of a hex digit byte, or -1. */
function hexDigit(byte: number | undefined): number {
  if (byte === undefined) return -1;
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  const lower = byte | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x57 : -1;
}

/** The code unit of `\uXXXX` at `i`, or -1 when the four digits are not hex. */
function unicodeEscape(buf: Buffer, i: number): number {
  let code = 0;
  for (let k = i + 2; k < i + 6; k++) {
    const d = hexDigit(buf[k]);
    if (d < 0) return -1;
    code = code * 16 + d;
  }
  return code;
}

/** `abc`, `\u0061\u0062\u0063`, `\u0061…` with upper-case hex: the spellings searched for. */
function anchorSpellings(run: string): Buffer[] {
  const escaped = [...run].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');
  return [...new Set([run, escaped, escaped.toUpperCase().replaceAll('\\U', '\\u')])].map((a) =>
    Buffer.from(a),
  );
}

/**
 * Matches every form of every secret in byte buffers, chunk by chunk, spelt plainly or with
 * JSON escapes (`\/`, `\"`, `\\`, and `\uXXXX` for any character that occurs in a form). It
 * searches a buffer for each form's longest run of letters and digits (in its spellings) and
 * looks closer only where one occurs, and at the end of the buffer, where a form may begin
 * that the next chunk completes.
 */
class Matcher {
  readonly #forms: Form[];
  readonly #anchors = new Map<string, Anchor>();
  /** forms without a run of four letters or digits: tried at every byte */
  readonly #unanchored: Form[] = [];
  /** the length of the shortest form */
  readonly #shortest: number;
  /** ASCII characters occurring in some form: only their escapes are read as them */
  readonly #chars = new Set<number>();
  readonly #firstBytes = new Set<number>([BACKSLASH]);
  /** the longest source spelling of any form */
  readonly #window: number;

  constructor(replacements: readonly SecretReplacement[], lowercase: boolean) {
    const fold = (s: string) => (lowercase ? s.toLowerCase() : s);
    const byFind = new Map<string, Form>();
    for (const r of replacements) {
      const find = fold(r.secret);
      if (find === '' || byFind.has(find)) continue;
      const run = [...find.matchAll(ALNUM)].sort((a, b) => b[0].length - a[0].length)[0];
      const form = {
        find: Buffer.from(find),
        replace: Buffer.from(fold(r.placeholder)),
        anchorAt: run ? Buffer.byteLength(find.slice(0, run.index)) : 0,
      };
      byFind.set(find, form);
      if (!run || run[0].length < 4) this.#unanchored.push(form);
      else {
        const spellings = anchorSpellings(run[0]);
        const anchor = this.#anchors.get(run[0]) ?? {
          spellings,
          texts: spellings.map((b) => b.toString('latin1')),
          forms: [],
        };
        anchor.forms.push(form);
        this.#anchors.set(run[0], anchor);
      }
    }
    // longest first: where two forms start at one byte, the longer one is replaced whole
    this.#forms = [...byFind.values()].sort((a, b) => b.find.length - a.find.length);
    for (const f of this.#forms) {
      this.#firstBytes.add(f.find[0]!);
      for (const b of f.find) if (b < 0x80) this.#chars.add(b);
    }
    this.#window = MAX_UNIT * Math.max(0, ...this.#forms.map((f) => f.find.length));
    this.#shortest = Math.min(...this.#forms.map((f) => f.find.length));
  }

  get empty(): boolean {
    return this.#forms.length === 0;
  }

  /** False when `text` cannot hold a form (a cheap test for short header text: most is shorter than any key). */
  mayHold(text: string): boolean {
    if (text.length < this.#shortest) return false;
    if (this.#unanchored.length > 0) return true;
    for (const anchor of this.#anchors.values()) {
      if (anchor.texts.some((t) => text.includes(t))) return true;
    }
    return false;
  }

  /**
   * Reads `form` at `start`, one character (plain or escaped) at a time: where the match ends,
   * `partial` if `buf` ends first (the next chunk decides), or -1 on a mismatch.
   */
  #matchAt(buf: Buffer, start: number, form: Form, final: boolean): number | 'partial' {
    let i = start;
    for (const want of form.find) {
      if (i >= buf.length) return final ? -1 : 'partial';
      const b = buf[i]!;
      if (b === want && b !== BACKSLASH) {
        i++;
        continue;
      }
      if (b !== BACKSLASH) return -1;
      const c = buf[i + 1];
      if (c === undefined) return final ? -1 : 'partial';
      if (c === 0x75) {
        if (i + 6 > buf.length) return final ? -1 : 'partial';
        if (unicodeEscape(buf, i) !== want || !this.#chars.has(want)) return -1;
        i += 6;
      } else if (SELF_ESCAPES.has(c) && c === want) {
        i += 2;
      } else if (want === BACKSLASH) {
        i++; // a plain backslash in the key itself
      } else {
        return -1;
      }
    }
    return i;
  }

  /** Every match in `buf`, leftmost first and not overlapping. */
  #matches(buf: Buffer, final: boolean): { start: number; end: number; form: Form }[] {
    const found: { start: number; end: number; form: Form }[] = [];
    const tryAt = (form: Form, start: number) => {
      if (buf[start] !== form.find[0] && buf[start] !== BACKSLASH) return;
      const end = this.#matchAt(buf, start, form, final);
      if (typeof end === 'number' && end > start) found.push({ start, end, form });
    };
    for (const { spellings, forms } of this.#anchors.values()) {
      for (const spelling of spellings) {
        for (let a = buf.indexOf(spelling); a >= 0; a = buf.indexOf(spelling, a + 1)) {
          // a form starts at most MAX_UNIT bytes per character before its anchor
          for (const form of forms) {
            for (let s = Math.max(0, a - MAX_UNIT * form.anchorAt); s <= a - form.anchorAt; s++)
              tryAt(form, s);
          }
        }
      }
    }
    for (const form of this.#unanchored) for (let s = 0; s < buf.length; s++) tryAt(form, s);
    found.sort((a, b) => a.start - b.start || b.end - a.end);
    const kept: typeof found = [];
    for (const m of found) if (m.start >= (kept.at(-1)?.end ?? 0)) kept.push(m);
    return kept;
  }

  /** Where the end of `buf[from..]` that could still become a form (or finish an escape) starts. */
  #pending(buf: Buffer, from: number): number {
    const start = Math.max(from, buf.length - this.#window);
    // the few places a form (or an escape) could begin, found natively rather than byte by byte
    const candidates: number[] = [];
    for (const byte of this.#firstBytes) {
      for (let s = buf.indexOf(byte, start); s >= 0; s = buf.indexOf(byte, s + 1)) candidates.push(s);
    }
    candidates.sort((a, b) => a - b);
    for (const s of candidates) {
      if (this.#forms.some((f) => this.#matchAt(buf, s, f, false) === 'partial')) return s;
    }
    return buf.length;
  }

  /**
   * Replaces every form in `buf`. Unless `final`, the end of `buf` that could still become a
   * form is not emitted: `keep` is where it starts.
   */
  scan(buf: Buffer, final: boolean): { parts: Buffer[]; keep: number } {
    const parts: Buffer[] = [];
    let source = 0;
    for (const m of this.#matches(buf, final)) {
      parts.push(buf.subarray(source, m.start), m.form.replace);
      source = m.end;
    }
    const keep = final ? buf.length : this.#pending(buf, source);
    parts.push(buf.subarray(source, keep));
    return { parts, keep };
  }
}

/** Every form of a sandbox's secrets, compiled once; scrubs response bodies and headers. */
export interface SecretScrubber {
  /**
   * A stream for one body that replaces every form of every secret with the same form of its
   * placeholder, also when one straddles a chunk boundary or is spelt with JSON escapes. It
   * holds back only bytes that could still become a secret (usually none), so each SSE event
   * passes as soon as it arrives.
   */
  stream(): Transform;
  /** one whole message (a WebSocket text message): every form replaced; returns `message` itself when none is in it */
  bytes(message: Buffer): Buffer;
  /** a header name (compared case-insensitively: names arrive lowercased) */
  name(name: string): string;
  /** a header value, or each value of a repeated header */
  value<T extends string | string[]>(value: T): T;
}

export function createSecretScrubber(replacements: readonly SecretReplacement[]): SecretScrubber {
  const values = new Matcher(replacements, false);
  const names = new Matcher(replacements, true);
  const text = (matcher: Matcher, t: string) => {
    if (matcher.empty || !matcher.mayHold(t)) return t;
    const { parts } = matcher.scan(Buffer.from(t, 'latin1'), true);
    return parts.length === 1 ? t : Buffer.concat(parts).toString('latin1');
  };
  return {
    stream() {
      let held: Buffer = Buffer.alloc(0);
      const scrub = (chunk: Buffer, final: boolean): Buffer | undefined => {
        const buf = held.length > 0 ? Buffer.concat([held, chunk]) : chunk;
        const { parts, keep } = values.scan(buf, final);
        held = keep < buf.length ? Buffer.from(buf.subarray(keep)) : Buffer.alloc(0); // a copy: don't pin the chunk
        const out = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
        return out.length > 0 ? out : undefined;
      };
      return new Transform({
        transform(chunk: Buffer, _encoding, callback: TransformCallback) {
          callback(null, values.empty ? chunk : scrub(chunk, false));
        },
        flush(callback: TransformCallback) {
          callback(null, values.empty ? undefined : scrub(Buffer.alloc(0), true));
        },
      });
    },
    bytes(message) {
      if (values.empty) return message;
      const { parts } = values.scan(message, true);
      return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    },
    name: (name) => text(names, name.toLowerCase()),
    value: <T extends string | string[]>(value: T) =>
      (Array.isArray(value) ? value.map((v) => text(values, v)) : text(values, value)) as T,
  };
}
