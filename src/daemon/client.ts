import { request, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { ENV } from '../config/env-vars.js';
import { AirlockError, ERRORS, type ErrorCode } from '../errors.js';
import { encodeFrame, FRAME, FrameDecoder, type Frame } from './frames.js';
import { DEFAULT_SOCKET, EXEC_HEADER, EXEC_PROTOCOL, type ErrorBody, type ExecSpec } from './protocol.js';

/** The socket a client uses: `--socket`, else AIRLOCK_SOCKET, else /run/airlock/airlock.sock. */
export function socketPath(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  return flag ?? (env[ENV.socket] || DEFAULT_SOCKET);
}

/** The error a connection failure means for the person at the keyboard. */
function unreachable(path: string, error: NodeJS.ErrnoException): AirlockError {
  if (error.code === 'EACCES' || error.code === 'EPERM') {
    return new AirlockError(
      'AIRLOCK_ERR_DAEMON_UNREACHABLE',
      `permission denied on the daemon socket ${path}: it is open to root and the config's daemon.group only`,
      { hint: "ask the admin to add you to the group named in the config's daemon.group, or use sudo" },
    );
  }
  return new AirlockError(
    'AIRLOCK_ERR_DAEMON_UNREACHABLE',
    `no airlock daemon answers on ${path} (${error.code ?? error.message}); its sandboxes ended with it`,
    {
      hint: 'start it with: airlock daemon (or systemctl enable --now airlock); `airlock gc` removes what a crashed one left',
      cause: error,
    },
  );
}

/** An `{ error }` answer as the AirlockError it stands for. */
function answerError(status: number, text: string): AirlockError {
  try {
    const { error } = JSON.parse(text) as ErrorBody;
    const code = (
      Object.hasOwn(ERRORS, error.code) ? error.code : 'AIRLOCK_ERR_DAEMON_PROTOCOL'
    ) as ErrorCode;
    return new AirlockError(code, error.message, error.hint === undefined ? {} : { hint: error.hint });
  } catch {
    return new AirlockError(
      'AIRLOCK_ERR_DAEMON_PROTOCOL',
      `the daemon answered ${status} without an error body`,
    );
  }
}

function readAll(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (s: string) => (text += s));
    res.once('end', () => resolve(text));
    res.once('error', reject);
  });
}

/** Talks to `airlock daemon` over its unix socket (node:http with `socketPath`). */
export class DaemonClient {
  readonly path: string;

  constructor(path: string) {
    this.path = path;
  }

  /** A JSON request; resolves with the parsed answer (undefined for 204), rejects with the daemon's error. */
  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.#send(method, path, body);
    const text = await readAll(res);
    if ((res.statusCode ?? 500) >= 400) throw answerError(res.statusCode ?? 500, text);
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  /** A streaming GET: resolves with the response once its headers are in (errors as `call`). */
  async stream(path: string): Promise<IncomingMessage> {
    const res = await this.#send('GET', path);
    if ((res.statusCode ?? 500) >= 400) throw answerError(res.statusCode ?? 500, await readAll(res));
    return res;
  }

  #send(method: string, path: string, body?: unknown): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = request({
        socketPath: this.path,
        method,
        path,
        headers: payload === undefined ? {} : { 'content-type': 'application/json' },
      });
      req.once('error', (error: NodeJS.ErrnoException) => reject(unreachable(this.path, error)));
      req.once('response', resolve);
      req.end(payload);
    });
  }

  /** Starts a command in a sandbox: resolves with the exec stream once the daemon switched protocols. */
  exec(ref: string, spec: ExecSpec): Promise<ExecStream> {
    return new Promise((resolve, reject) => {
      const req = request({
        socketPath: this.path,
        method: 'POST',
        path: `/v1/sandboxes/${encodeURIComponent(ref)}/exec`,
        headers: {
          connection: 'Upgrade',
          upgrade: EXEC_PROTOCOL,
          [EXEC_HEADER]: Buffer.from(JSON.stringify(spec)).toString('base64url'),
        },
      });
      req.once('error', (error: NodeJS.ErrnoException) => reject(unreachable(this.path, error)));
      req.once('response', (res) => {
        void readAll(res).then((text) => reject(answerError(res.statusCode ?? 500, text)), reject);
      });
      req.once('upgrade', (_res, socket: Duplex, head: Buffer) => resolve(new ExecStream(socket, head)));
      req.end();
    });
  }
}

/** The client's end of an exec stream: write stdin and signals, read output frames. */
export class ExecStream {
  readonly socket: Duplex;
  #decoder = new FrameDecoder();
  #head: Buffer;

  constructor(socket: Duplex, head: Buffer) {
    this.socket = socket;
    this.#head = head;
    socket.on('error', () => undefined);
  }

  /**
   * Calls `onFrame` for each frame the daemon sends; resolves with the exit status, or rejects
   * when the stream ends without one (the daemon went away).
   */
  run(onFrame: (frame: Frame) => void): Promise<number> {
    return new Promise((resolve, reject) => {
      let status: number | undefined;
      const take = (chunk: Buffer) => {
        let frames: Frame[];
        try {
          frames = this.#decoder.push(chunk);
        } catch (error) {
          reject(
            new AirlockError('AIRLOCK_ERR_DAEMON_PROTOCOL', `the daemon sent a bad frame: ${String(error)}`),
          );
          this.socket.destroy();
          return;
        }
        for (const frame of frames) {
          if (frame.type === FRAME.exit) status = Number(frame.payload.toString());
          else if (frame.type === FRAME.error) {
            reject(answerError(500, frame.payload.toString()));
          } else onFrame(frame);
        }
      };
      if (this.#head.length > 0) take(this.#head);
      this.socket.on('data', take);
      this.socket.once('close', () => {
        if (status !== undefined) resolve(status);
        else {
          reject(
            new AirlockError(
              'AIRLOCK_ERR_DAEMON_UNREACHABLE',
              'the daemon ended the command without an exit status: it stopped, and its sandboxes with it',
              { hint: 'start it with: airlock daemon; `airlock gc` removes what a crashed one left' },
            ),
          );
        }
      });
    });
  }

  stdin(data: Buffer): boolean {
    return this.socket.write(encodeFrame(FRAME.stdin, data));
  }
  stdinEof(): void {
    this.socket.write(encodeFrame(FRAME.stdinEof));
  }
  signal(signal: NodeJS.Signals): void {
    this.socket.write(encodeFrame(FRAME.signal, signal));
  }
}
