import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { createProxyLogger, type LogLevelName } from '../src/proxy/core/logger.js';

function logged(level: LogLevelName, log: (l: ReturnType<typeof createProxyLogger>) => void) {
  const stream = new PassThrough();
  let out = '';
  stream.on('data', (c: Buffer) => (out += c.toString()));
  const logger = createProxyLogger({ stream, level });
  log(logger);
  return out
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

test("a line is pino's: level number, time, pid, hostname, the fields, msg", () => {
  const [line] = logged('info', (l) => l.info({ service: 'openai', status: 200 }, 'request'));
  assert.deepEqual(Object.keys(line!), ['level', 'time', 'pid', 'hostname', 'service', 'status', 'msg']);
  assert.equal(line!.level, 30);
  assert.equal(line!.pid, process.pid);
  assert.ok(Math.abs(Number(line!.time) - Date.now()) < 60_000);
});

test('lines below the level are not written, and silent writes none', () => {
  const warn = logged('warn', (l) => {
    l.info({ a: 1 }, 'hidden');
    l.warn({ a: 2 }, 'shown');
    l.error({ a: 3 }, 'shown');
    assert.equal(l.isLevelEnabled('info'), false);
    assert.equal(l.isLevelEnabled('error'), true);
  });
  assert.deepEqual(
    warn.map((l) => [l.level, l.a]),
    [
      [40, 2],
      [50, 3],
    ],
  );
  assert.deepEqual(
    logged('silent', (l) => l.error({}, 'x')),
    [],
  );
});

test('an err is written as its type, message, code and stack', () => {
  const err = Object.assign(new TypeError('boom'), { code: 'E_BOOM' });
  const [line] = logged('info', (l) => l.error({ err }, 'internal proxy error'));
  const written = line!.err as Record<string, unknown>;
  assert.equal(written.type, 'TypeError');
  assert.equal(written.message, 'boom');
  assert.equal(written.code, 'E_BOOM');
  assert.match(String(written.stack), /TypeError: boom/);
});

test('fields that cannot be serialised still give a line with the message', () => {
  const circular: Record<string, unknown> = {};
  circular.self = circular;
  const [line] = logged('info', (l) => l.warn(circular, 'circular'));
  assert.equal(line!.msg, 'circular');
  assert.equal(line!.logError, 'fields could not be serialised');
});

test('an unknown level is refused, naming it', () => {
  assert.throws(
    () => createProxyLogger({ level: 'verbose' as LogLevelName }),
    (e: Error & { code?: string }) => e.code === 'AIRLOCK_ERR_CONFIG' && /"verbose"/.test(e.message),
  );
});
