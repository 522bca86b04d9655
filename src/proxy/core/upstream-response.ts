import type { EventEmitter } from 'node:events';
import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { parseHeaders, RequestAbortedError, type UpstreamDispatcher } from './undici-parts.js';

/** The upstream's response as the proxy reads it: status, headers (lowercase, repeats as arrays) and body. */
export interface UpstreamResponse {
  statusCode: number;
  headers: IncomingHttpHeaders;
  /** the body's bytes; destroying it aborts the upstream request */
  body: Readable;
}

/** A response body buffers this much before the upstream connection is paused. */
const BODY_HIGH_WATER_MARK = 64 * 1024;

/**
 * Sends one request through `dispatcher` and resolves with the response once its head arrived.
 * undici's `request()` does the same with an async-resource scope, an abort-signal listener and
 * a feature-rich body stream per call; this handler keeps only what the proxy uses: a plain
 * Readable that pauses the connection when the guest reads slower, and an abort when the guest
 * goes away (`abort` emits 'abort') or the body is destroyed before its end.
 */
export function requestUpstream(
  dispatcher: UpstreamDispatcher,
  options: Dispatcher.DispatchOptions,
  abort: EventEmitter,
): Promise<UpstreamResponse> {
  return new Promise((resolve, reject) => {
    let abortUpstream: ((reason: Error) => void) | undefined;
    let aborted: Error | undefined;
    let body: Readable | undefined;
    let resumeUpstream: (() => void) | undefined;
    let ended = false;
    const onAbort = () => {
      aborted ??= new RequestAbortedError();
      abortUpstream?.(aborted);
    };
    abort.once('abort', onAbort);

    const handler: Dispatcher.DispatchHandler = {
      onConnect(abortRequest) {
        abortUpstream = abortRequest;
        if (aborted) abortRequest(aborted);
      },
      onHeaders(statusCode, rawHeaders, resume) {
        if (statusCode < 200) return true; // 1xx: the final answer is still to come
        resumeUpstream = resume;
        const stream = new Readable({
          highWaterMark: BODY_HIGH_WATER_MARK,
          read: () => resumeUpstream?.(),
          destroy(err, callback) {
            if (!ended) abortUpstream?.(err ?? new RequestAbortedError());
            callback(err);
          },
        });
        // as undici's own body: an upstream failure after the head never goes unhandled (the
        // exchange listens for it too, from the next microtask on)
        body = stream.on('error', () => undefined);
        resolve({ statusCode, headers: parseHeaders(rawHeaders), body });
        return true;
      },
      onData(chunk) {
        return body!.push(chunk); // false pauses the connection until read() resumes it
      },
      onComplete() {
        ended = true;
        abort.off('abort', onAbort);
        body!.push(null);
      },
      onError(err) {
        ended = true;
        abort.off('abort', onAbort);
        if (body) body.destroy(err);
        else reject(err);
      },
    };
    dispatcher.dispatch(options, handler);
  });
}
