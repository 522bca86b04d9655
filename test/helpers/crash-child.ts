/**
 * The process the crash test kills: an audit writer under load. Usage: crash-child.ts HOME SIDE.
 * After each intent resolves it appends the row id to SIDE (what "sent upstream" means here),
 * then finishes most entries a little later. It runs until killed.
 */
import { openSync, writeSync } from 'node:fs';
import { createAuditWriter } from '../../src/audit/writer.js';
import { openDatabase } from '../../src/store/database.js';
import { anIntent, anOutcome } from './audit-db.js';

const [home, side] = process.argv.slice(2);
if (!home || !side) throw new Error('usage: crash-child.ts HOME SIDE');
const out = openSync(side, 'a');
const db = openDatabase({ home });
const writer = createAuditWriter({ db });
writer.recoverUnfinished();
writeSync(out, `ready ${String(db.pragma('synchronous', { simple: true }))}\n`);

let n = 0;
function burst(): void {
  const size = 1 + Math.floor(Math.random() * 30);
  for (let i = 0; i < size; i++) {
    const k = n++;
    writer
      .intent(anIntent({ sandboxId: `crash-${process.pid}`, path: `/v1/n/${k}`, startedAt: Date.now() }))
      .then(
        (entry) => {
          writeSync(out, `${entry.id}\n`);
          if (k % 4 !== 0) setTimeout(() => entry.finish(anOutcome({ endedAt: Date.now() })), k % 7);
        },
        (error: unknown) => writeSync(out, `error ${(error as { code?: string }).code}\n`),
      );
  }
  setImmediate(burst);
}
burst();
