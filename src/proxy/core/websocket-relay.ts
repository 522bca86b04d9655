import type { RawData, WebSocket } from 'ws';

/** Bytes handed to one side and not yet written to its socket before the other side is paused (1 MiB). */
export const RELAY_HIGH_WATER_BYTES = 1024 * 1024;

export interface WebSocketRelayOptions {
  /** what each upstream text message passes through on its way to the guest (the secret scrubber) */
  scrubText(message: Buffer): Buffer;
  /** no message, ping or pong either way for this long (`ms`) ends the session */
  idleMs: number;
  /** see RELAY_HIGH_WATER_BYTES (omitted = it) */
  highWaterBytes?: number;
}

/** How a relayed session ended. */
export interface WebSocketRelayEnd {
  /** message payload bytes the guest sent */
  bytesIn: number;
  /** message payload bytes the guest was sent (after scrubbing) */
  bytesOut: number;
  /** set when the proxy ended the session itself ('idle timeout') */
  reason?: string;
  /** the upstream leg failed (a protocol error, a reset): what it reported */
  upstreamError?: Error;
}

/** One leg's `message` payload as one buffer (the default `nodebuffer` binary type gives one already). */
function asBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}

/** Close codes a peer may send (RFC 6455 7.4; 1005 and 1006 only describe what happened). */
function sendableCode(code: number): boolean {
  return (
    (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) ||
    (code >= 3000 && code <= 4999)
  );
}

/** Starts the closing handshake on `to` with what the other side said; a dead peer's end is passed on as a reset. */
function passClose(to: WebSocket, code: number, reason: Buffer): void {
  if (to.readyState === to.CLOSING || to.readyState === to.CLOSED) return;
  if (code === 1006 || to.readyState === to.CONNECTING) return void to.terminate();
  try {
    if (sendableCode(code)) to.close(code, reason);
    else to.close();
  } catch {
    to.close(code); // a reason the scrubber lengthened past 123 bytes
  }
}

/**
 * Relays messages both ways between two open WebSockets, whole messages at a time: text
 * from the upstream passes through `scrubText`, everything else as is. Backpressure: when
 * more than `highWaterBytes` sent to one side are not yet written out, the other side's
 * socket is paused until a quarter of that is left. Either side closing closes the other
 * with its code and reason; `onEnd` is called once, when both are closed.
 */
export function relayWebSocket(
  guest: WebSocket,
  upstream: WebSocket,
  options: WebSocketRelayOptions,
  onEnd: (end: WebSocketRelayEnd) => void,
): void {
  const high = options.highWaterBytes ?? RELAY_HIGH_WATER_BYTES;
  const end: WebSocketRelayEnd = { bytesIn: 0, bytesOut: 0 };
  /** bytes handed to each side's sender and not yet written to its socket */
  const unwritten = new Map<WebSocket, number>([
    [guest, 0],
    [upstream, 0],
  ]);

  const idle = setTimeout(() => {
    end.reason = 'idle timeout';
    for (const ws of [guest, upstream]) passClose(ws, 1001, Buffer.from('idle timeout'));
  }, options.idleMs);
  const active = () => idle.refresh();

  /** Sends one message to `to`, pausing `from` while `to` has more than the high-water mark unwritten. */
  function send(to: WebSocket, from: WebSocket, data: Buffer, isBinary: boolean): void {
    if (to.readyState !== to.OPEN) return;
    unwritten.set(to, unwritten.get(to)! + data.length);
    to.send(data, { binary: isBinary }, () => {
      const left = unwritten.get(to)! - data.length;
      unwritten.set(to, left);
      if (left <= high / 4 && from.isPaused) from.resume();
    });
    if (unwritten.get(to)! > high && !from.isPaused) from.pause();
  }

  guest.on('message', (data, isBinary) => {
    active();
    const message = asBuffer(data);
    end.bytesIn += message.length;
    send(upstream, guest, message, isBinary);
  });
  upstream.on('message', (data, isBinary) => {
    active();
    const raw = asBuffer(data);
    const message = isBinary ? raw : options.scrubText(raw);
    end.bytesOut += message.length;
    send(guest, upstream, message, isBinary);
  });
  for (const ws of [guest, upstream]) {
    ws.on('ping', active);
    ws.on('pong', active);
  }

  guest.on('error', () => {}); // a guest breaking the protocol is closed by ws (1002/1009), nothing more
  upstream.on('error', (err) => (end.upstreamError ??= err));

  let closed = 0;
  const onClose = (other: WebSocket) => (code: number, reason: Buffer) => {
    // the upstream's close reason is text it wrote: scrubbed like its messages
    if (other.isPaused) other.resume(); // nothing more goes the closed side's way: let the close reply in
    passClose(other, code, other === guest ? options.scrubText(reason) : reason);
    if (++closed < 2) return;
    clearTimeout(idle);
    onEnd(end);
  };
  guest.once('close', onClose(upstream));
  upstream.once('close', onClose(guest));
}
