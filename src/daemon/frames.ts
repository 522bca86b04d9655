/**
 * The exec stream's framing (`airlock-exec/1`): after `101 Switching Protocols` both sides
 * send frames of 1 byte type + 4 bytes big-endian payload length + payload. One module, so
 * the daemon and the client cannot disagree.
 */

/** Frame types; the client sends stdin, stdin-eof and signal, the daemon stdout, stderr and exit. */
export const FRAME = {
  stdin: 0,
  stdinEof: 1,
  stdout: 2,
  stderr: 3,
  /** payload = signal name, e.g. `SIGINT` */
  signal: 4,
  /** payload = decimal exit status (128 + n when the command died of signal n) */
  exit: 5,
  /** payload = JSON `{ code, message, hint? }`: the command could not run; the stream ends */
  error: 6,
} as const;

export type FrameType = (typeof FRAME)[keyof typeof FRAME];

export interface Frame {
  type: FrameType;
  payload: Buffer;
}

const HEADER = 5;
/** the longest payload either side accepts, in bytes (a frame is a pipe chunk, not a file) */
export const MAX_PAYLOAD = 1024 * 1024;
const TYPES = new Set<number>(Object.values(FRAME));

export function encodeFrame(type: FrameType, payload: Buffer | string = Buffer.alloc(0)): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const header = Buffer.alloc(HEADER);
  header.writeUInt8(type, 0);
  header.writeUInt32BE(body.length, 1);
  return Buffer.concat([header, body]);
}

/**
 * Turns a byte stream cut anywhere into whole frames: `push` each chunk as it arrives and get
 * back the frames it completed. Throws on an unknown type or a payload over MAX_PAYLOAD (the
 * peer is not speaking this protocol; the caller closes the connection).
 */
export class FrameDecoder {
  #buffer: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Frame[] {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    const frames: Frame[] = [];
    while (this.#buffer.length >= HEADER) {
      const type = this.#buffer.readUInt8(0);
      const length = this.#buffer.readUInt32BE(1);
      if (!TYPES.has(type)) throw new Error(`unknown frame type ${type}`);
      if (length > MAX_PAYLOAD) throw new Error(`frame of ${length} bytes is over ${MAX_PAYLOAD}`);
      if (this.#buffer.length < HEADER + length) break;
      frames.push({ type: type as FrameType, payload: this.#buffer.subarray(HEADER, HEADER + length) });
      this.#buffer = this.#buffer.subarray(HEADER + length);
    }
    return frames;
  }

  /** bytes received that do not make a whole frame yet */
  get pending(): number {
    return this.#buffer.length;
  }
}
