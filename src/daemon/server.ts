import Fastify, { type FastifyInstance } from 'fastify';
import type { IncomingMessage } from 'node:http';
import type { Duplex, Readable, Writable } from 'node:stream';
import { existsSync } from 'node:fs';
import type { Engine, EngineSandbox } from '../engine/engine.js';
import { AirlockError, isAirlockError, type ErrorCode } from '../errors.js';
import type { GuestProcess } from '../sandbox/guest-process.js';
import { guestBlockedPackets } from '../sandbox/firewall.js';
import { openQueryDatabase } from '../store/read-only-query.js';
import { SandboxActivity } from '../store/sandbox-activity.js';
import { changeSpec, createSpec, execSpec } from './api-policy.js';
import { encodeFrame, FRAME, FrameDecoder } from './frames.js';
import {
  EXEC_HEADER,
  EXEC_PROTOCOL,
  EXEC_SIGNALS,
  type CreatedSandbox,
  type ErrorBody,
  type SandboxInfo,
} from './protocol.js';
import { claimSocketPath, prepareSocketDirectory, protectSocket, type Group } from './socket-file.js';

export interface DaemonOptions {
  engine: Engine;
  /** the unix socket to listen on */
  socketPath: string;
  /** group allowed on the socket (omitted = root only) */
  group?: Group;
  /** where the daemon writes its log lines */
  log: (line: string) => void;
  /** how often `logs --follow` looks for new rows, in ms (omitted = 250) */
  followIntervalMs?: number;
}

export interface RunningDaemon {
  app: FastifyInstance;
  socketPath: string;
  /** stops listening, ends every exec stream and log follower; the engine stays open */
  close(): Promise<void>;
}

/** HTTP status of each error a caller can cause; everything else is the daemon's fault (500). */
const STATUS: Partial<Record<ErrorCode, number>> = {
  AIRLOCK_ERR_USAGE: 400,
  AIRLOCK_ERR_CONFIG: 400,
  AIRLOCK_ERR_PROFILE: 400,
  AIRLOCK_ERR_CREDENTIAL_UNKNOWN: 400,
  AIRLOCK_ERR_CREDENTIAL_NOT_ALLOWED: 400,
  AIRLOCK_ERR_SECRET_SOURCE: 400,
  AIRLOCK_ERR_USER_UNKNOWN: 400,
  AIRLOCK_ERR_DAEMON_PROTOCOL: 400,
  AIRLOCK_ERR_TTY: 400,
  AIRLOCK_ERR_ENV_RESERVED: 400,
  AIRLOCK_ERR_FORBIDDEN: 403,
  AIRLOCK_ERR_SANDBOX_UNKNOWN: 404,
  AIRLOCK_ERR_NAME_TAKEN: 409,
  AIRLOCK_ERR_SANDBOX_BUSY: 409,
  AIRLOCK_ERR_SANDBOX_CLOSED: 409,
  AIRLOCK_ERR_POOL_EXHAUSTED: 503,
};

function errorBody(error: unknown): { status: number; body: ErrorBody } {
  if (isAirlockError(error)) {
    return {
      status: STATUS[error.code] ?? 500,
      body: {
        error: { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) },
      },
    };
  }
  return {
    status: 500,
    body: { error: { code: 'AIRLOCK_ERR_INTERNAL', message: 'the daemon failed; see its log' } },
  };
}

/** where `script` (util-linux) makes a terminal for `exec -t`; the guest sees the host's /usr */
const SCRIPT = '/usr/bin/script';

/** One argument as a POSIX shell word (for `script -c`, which takes a command line). */
function shellWord(arg: string): string {
  return /^[A-Za-z0-9_./=:,+-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}

/**
 * The daemon's API on a unix socket: JSON routes under /v1/ and the exec stream (an HTTP
 * upgrade to `airlock-exec/1` frames). Requests are checked against the config by
 * api-policy.ts before they reach the engine.
 */
export async function startDaemon(options: DaemonOptions): Promise<RunningDaemon> {
  const { engine, socketPath, group, log } = options;
  const followMs = options.followIntervalMs ?? 250;
  const activityDb = openQueryDatabase({ home: engine.home });
  const activity = new SandboxActivity(activityDb);
  /** commands started through the API, by sandbox id (what `stop` signals) */
  const execs = new Map<string, Set<GuestProcess>>();
  const streams = new Set<Duplex>();
  const followers = new Set<() => void>();

  const app = Fastify({ logger: false, forceCloseConnections: true });
  app.setErrorHandler((error, _request, reply) => {
    const known = isAirlockError(error);
    const fastifyCode = (error as { code?: string; statusCode?: number }).statusCode;
    if (!known && fastifyCode !== undefined && fastifyCode < 500) {
      // fastify's own refusals: bad JSON, wrong content type, body too large
      const message = error instanceof Error ? error.message : String(error);
      void reply.code(400).send({ error: { code: 'AIRLOCK_ERR_USAGE', message } } satisfies ErrorBody);
      return;
    }
    if (!known) log(`error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    const { status, body } = errorBody(error);
    void reply.code(status).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({
      error: { code: 'AIRLOCK_ERR_USAGE', message: `no route ${request.method} ${request.url}` },
    } satisfies ErrorBody);
  });

  const info = (s: EngineSandbox): SandboxInfo => ({
    id: s.id,
    name: s.name,
    createdAt: s.sandbox.record.createdAt,
    ageSeconds: Math.round((Date.now() - Date.parse(s.sandbox.record.createdAt)) / 1000),
    profiles: s.sandbox.record.profiles,
    credentials: s.sandbox.record.credentials,
    proxyUrl: s.proxyUrl,
    running: s.running,
    ...activity.totals(s.id),
    packetsBlocked: guestBlockedPackets(s.sandbox.netns),
    budgets: s.budgets(),
    spend: s.spend(),
  });

  app.post('/v1/sandboxes', async (request, reply) => {
    const spec = createSpec(request.body, engine.config);
    const sandbox = await engine.create(spec);
    log(`created sandbox ${sandbox.id}${sandbox.name ? ` (${sandbox.name})` : ''}`);
    const created: CreatedSandbox = {
      id: sandbox.id,
      name: sandbox.name,
      proxyUrl: sandbox.proxyUrl,
      warnings: [...sandbox.warnings],
    };
    return reply.code(201).send(created);
  });

  app.get('/v1/sandboxes', () => ({ sandboxes: engine.list().map(info) }));

  app.get<{ Params: { ref: string } }>('/v1/sandboxes/:ref', (request) =>
    info(engine.get(request.params.ref)),
  );

  app.patch<{ Params: { ref: string } }>('/v1/sandboxes/:ref', async (request) => {
    const sandbox = engine.get(request.params.ref);
    await sandbox.update(changeSpec(request.body, engine.config));
    log(`changed sandbox ${sandbox.id}`);
    return info(sandbox);
  });

  app.delete<{ Params: { ref: string }; Querystring: { force?: string } }>(
    '/v1/sandboxes/:ref',
    async (request, reply) => {
      const sandbox = engine.get(request.params.ref);
      const force = request.query.force === '1' || request.query.force === 'true';
      await engine.remove(sandbox.id, { force });
      log(`removed sandbox ${sandbox.id}${force ? ' (forced)' : ''}`);
      return reply.code(204).send();
    },
  );

  app.post<{ Params: { ref: string } }>('/v1/sandboxes/:ref/stop', async (request, reply) => {
    const sandbox = engine.get(request.params.ref);
    const running = [...(execs.get(sandbox.id) ?? [])];
    for (const proc of running) proc.signal('SIGTERM');
    const graceMs = engine.config.config.limits.graceSeconds * 1000;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(running.map((p) => p.exited)),
      new Promise((resolve) => (timer = setTimeout(resolve, graceMs))),
    ]);
    clearTimeout(timer);
    await sandbox.close();
    log(`stopped sandbox ${sandbox.id}`);
    return reply.code(204).send();
  });

  app.get<{ Params: { ref: string }; Querystring: { follow?: string } }>(
    '/v1/sandboxes/:ref/logs',
    async (request, reply) => {
      const sandbox = engine.get(request.params.ref);
      const follow = request.query.follow === '1' || request.query.follow === 'true';
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      let cursor = 0;
      /** rows finished so far, in id order; an in-flight row holds back those after it */
      const flush = () => {
        for (;;) {
          const rows = activity.after(sandbox.id, cursor);
          let more = rows.length > 0;
          for (const row of rows) {
            if (row.decision === null && follow && !sandbox.closed) {
              more = false;
              break;
            }
            res.write(`${JSON.stringify(row)}\n`);
            cursor = row.id;
          }
          if (!more || rows.length < 500) return;
        }
      };
      flush();
      if (!follow) {
        res.end();
        return;
      }
      const stop = () => {
        clearInterval(timer);
        followers.delete(stop);
        res.end();
      };
      const timer = setInterval(() => {
        try {
          flush();
          if (sandbox.closed) stop();
        } catch (error) {
          log(`logs: ${String(error)}`);
          stop();
        }
      }, followMs);
      followers.add(stop);
      res.once('close', stop);
    },
  );

  app.server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    handleExec(request, socket, head);
  });

  /** `POST /v1/sandboxes/:ref/exec` with `Upgrade: airlock-exec/1` */
  function handleExec(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => undefined);
    const refuse = (error: unknown) => {
      const { status, body } = errorBody(error);
      const text = JSON.stringify(body);
      socket.end(
        `HTTP/1.1 ${status} Refused\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`,
      );
    };
    let sandbox: EngineSandbox;
    let proc: GuestProcess;
    try {
      const match = /^\/v1\/sandboxes\/([^/?]+)\/exec(\?.*)?$/.exec(request.url ?? '');
      if (request.method !== 'POST' || match === null) {
        throw new AirlockError('AIRLOCK_ERR_USAGE', `no upgrade route ${request.method} ${request.url}`);
      }
      if (request.headers.upgrade?.toLowerCase() !== EXEC_PROTOCOL) {
        throw new AirlockError('AIRLOCK_ERR_DAEMON_PROTOCOL', `upgrade to ${EXEC_PROTOCOL} only`);
      }
      const spec = execSpec(request.headers[EXEC_HEADER] as string | undefined);
      sandbox = engine.get(decodeURIComponent(match[1]!));
      let command = spec.command;
      if (spec.tty) {
        if (!existsSync(SCRIPT)) {
          throw new AirlockError('AIRLOCK_ERR_TTY', 'exec -t needs `script` (util-linux) for a terminal', {
            hint: 'install util-linux on the host, or run without -t',
          });
        }
        command = [SCRIPT, '-qfec', command.map(shellWord).join(' '), '/dev/null'];
      }
      proc = sandbox.spawn(command, { env: spec.env ?? {}, stdio: ['pipe', 'pipe', 'pipe'] });
    } catch (error) {
      refuse(error);
      return;
    }
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nupgrade: ${EXEC_PROTOCOL}\r\nconnection: Upgrade\r\n\r\n`,
    );
    streams.add(socket);
    const mine = execs.get(sandbox.id) ?? new Set<GuestProcess>();
    execs.set(sandbox.id, mine);
    mine.add(proc);
    const { stdin, stdout, stderr } = proc as { stdin: Writable; stdout: Readable; stderr: Readable }; // all piped
    let exited = false;
    const send = (frame: Buffer, source: NodeJS.ReadableStream) => {
      if (!socket.write(frame)) {
        source.pause();
        socket.once('drain', () => source.resume());
      }
    };
    stdout.on('data', (b: Buffer) => send(encodeFrame(FRAME.stdout, b), stdout));
    stderr.on('data', (b: Buffer) => send(encodeFrame(FRAME.stderr, b), stderr));
    stdin.on('error', () => undefined);
    const decoder = new FrameDecoder();
    const onData = (chunk: Buffer) => {
      let frames;
      try {
        frames = decoder.push(chunk);
      } catch (error) {
        log(`exec ${sandbox.id}: ${String(error)}; ending the stream`);
        socket.destroy();
        return;
      }
      for (const frame of frames) {
        switch (frame.type) {
          case FRAME.stdin:
            if (!stdin.write(frame.payload)) {
              socket.pause();
              stdin.once('drain', () => socket.resume());
            }
            break;
          case FRAME.stdinEof:
            stdin.end();
            break;
          case FRAME.signal: {
            const name = frame.payload.toString() as NodeJS.Signals;
            if (EXEC_SIGNALS.includes(name)) proc.signal(name);
            break;
          }
          case FRAME.stdout:
          case FRAME.stderr:
          case FRAME.exit:
          case FRAME.error:
            break; // only the daemon sends these
        }
      }
    };
    if (head.length > 0) onData(head);
    socket.on('data', onData);
    // a client that goes away takes its command with it
    socket.once('close', () => {
      streams.delete(socket);
      if (!exited) proc.kill();
    });
    void proc.exited.then((status) => {
      exited = true;
      mine.delete(proc);
      if (mine.size === 0 && execs.get(sandbox.id) === mine) execs.delete(sandbox.id);
      socket.end(encodeFrame(FRAME.exit, String(status)));
    });
  }

  await claimSocketPath(socketPath);
  prepareSocketDirectory(socketPath, group);
  // the socket is made with no access for others; it is opened to root's group after
  const umask = process.umask(0o177);
  try {
    await app.listen({ path: socketPath });
  } finally {
    process.umask(umask);
  }
  protectSocket(socketPath, group);
  return {
    app,
    socketPath,
    async close() {
      for (const stop of followers) stop();
      for (const socket of streams) socket.destroy();
      await app.close();
      activityDb.close();
    },
  };
}
