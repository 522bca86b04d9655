import type { Readable, Writable } from 'node:stream';

/**
 * Pipes `streams` into `sink`, like `stream.pipeline` but without what pipeline costs each
 * call on the hot path: an AbortController aborted at the end (a DOMException) and an error
 * object for every stream it tears down. `done` runs once: with no error when the sink has
 * finished, or with the first error (or premature close), after every stream was destroyed.
 */
export function chain(streams: readonly Readable[], sink: Writable, done: (err?: Error) => void): void {
  let ended = false;
  const end = (err?: Error) => {
    if (ended) return;
    ended = true;
    if (err) {
      for (const s of streams) s.destroy();
      sink.destroy();
    }
    done(err);
  };
  const prematureClose = () => new Error('premature close');
  streams.forEach((stream, i) => {
    stream.once('error', end);
    stream.once('close', () => {
      if (!stream.readableEnded) end(prematureClose());
    });
    stream.pipe((streams[i + 1] as Writable | undefined) ?? sink); // every stream after the first is a Transform
  });
  sink.once('error', end);
  sink.once('finish', () => end());
  sink.once('close', () => {
    if (!sink.writableFinished) end(prematureClose());
  });
}
