import { runInNewContext } from 'node:vm';

/**
 * Body bytes between two young-generation collections asked for by the proxy. A streamed body
 * leaves one dead buffer behind per chunk (each decrypted 16 KB TLS record, each socket read)
 * whose memory lies outside V8's heap: V8 sees little allocation on its own heap, so it
 * collects them only once ~64 MB of such memory has piled up: without these collections a
 * fresh engine kept ~40 MiB more after its first 100 MB download (153 against 113 MiB). A
 * scavenge every this many bytes keeps that pile under it, for a fraction of a millisecond
 * each (the chunks are dead by then: nothing young survives).
 */
export const BODY_GC_BYTES = 4 * 1024 * 1024;

type Collect = () => void;

/** V8's own `gc({ type: 'minor' })`, made reachable without exposing `gc` to the engine's code. */
function minorCollector(): Collect {
  const { setFlagsFromString } = process.getBuiltinModule('node:v8');
  setFlagsFromString('--expose-gc');
  try {
    // the flag takes effect for contexts created after it: this one's `gc` is the only one
    const gc = runInNewContext('gc') as (options: { type: 'minor' }) => void;
    return () => gc({ type: 'minor' });
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
}

/**
 * Counts body bytes passing through the proxy (every exchange of the process together) and
 * asks for a young-generation collection after each `step` of them, at most one at a time,
 * once the current callbacks have run (setImmediate).
 */
export function createBodyGarbage(step = BODY_GC_BYTES, collect?: Collect): (bytes: number) => void {
  let passed = 0;
  let scheduled = false;
  let run: Collect | undefined = collect;
  const now = () => {
    scheduled = false;
    (run ??= minorCollector())();
  };
  return (bytes) => {
    passed += bytes;
    if (passed < step) return;
    passed = 0;
    if (scheduled) return;
    scheduled = true;
    setImmediate(now);
  };
}

/** The process's body counter (see createBodyGarbage). */
export const bodyBytesPassed = createBodyGarbage();
