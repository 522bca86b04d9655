import type { AuditSpace } from '../store/audit-space.js';

/** The audit log's size cap when the config leaves it out (config `audit.maxBytes`). */
export const DEFAULT_AUDIT_MAX_BYTES = 512 * 1024 * 1024;

export interface SizeCap {
  /** prunes when the log has grown past its share of the cap; call after each commit */
  enforce(): void;
  /** over the cap with nothing finished left to prune: new requests must be refused */
  readonly full: boolean;
}

export interface SizeCapOptions {
  space: AuditSpace;
  /** the cap on the database file plus its WAL, in bytes */
  maxBytes: number;
  /** runs `fn` in one transaction */
  transaction<T>(fn: () => T): T;
  /** told after each prune: how many rows went, and the newest start among them */
  onPrune(rows: number, upTo: string | undefined): void;
}

/**
 * Keeps the audit log's database file and WAL within `maxBytes`, oldest rows first. The file
 * may not grow past 7/8 of the cap (SQLite's max_page_count: a write past it fails, and the
 * request is refused with 503), the WAL is kept to about 1/8. Long before that, when the rows
 * in use pass half the cap, the oldest finished rows are deleted until they take 3/8 (their
 * pages are reused, so the file stops growing) and an `audit_gaps` row records how many went.
 * Rows still in flight are never pruned; a log that stays over 5/8 with nothing else to prune
 * is `full`, and new requests are refused until rows finish.
 */
export function createSizeCap(options: SizeCapOptions): SizeCap {
  const { space, maxBytes } = options;
  const trigger = maxBytes / 2;
  const target = (maxBytes * 3) / 8;
  space.limitFiles(Math.floor((maxBytes * 7) / 8), Math.floor(maxBytes / 8));
  let full = false;
  return {
    get full() {
      return full;
    },
    enforce() {
      if (space.liveBytes() <= trigger) {
        full = false;
        return;
      }
      const pruned = options.transaction(() => {
        let rows = 0;
        let upTo: string | undefined;
        for (let live = space.liveBytes(); live > target; live = space.liveBytes()) {
          // about the share of rows that takes the log down to the target, at least a page's worth
          const share = Math.ceil((space.finishedRows() * (live - target)) / live);
          const step = space.pruneOldest(Math.max(64, share));
          if (step.rows === 0) break;
          rows += step.rows;
          upTo = step.upTo ?? upTo;
        }
        if (rows > 0) {
          const reason = `pruned to stay under audit.maxBytes (${maxBytes} bytes): the oldest rows, started up to ${upTo ?? '?'}`;
          space.recordGap('pruned', rows, reason, new Date().toISOString());
        }
        return { rows, upTo };
      });
      full = space.liveBytes() > (maxBytes * 5) / 8;
      if (pruned.rows > 0) options.onPrune(pruned.rows, pruned.upTo);
    },
  };
}
