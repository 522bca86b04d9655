import type { Statement } from 'better-sqlite3';
import type { Db } from './database.js';
import { AirlockError } from '../errors.js';

/** A sandbox as recorded in the `sandboxes` table. */
export interface SandboxRecord {
  id: string;
  name: string | null;
  slot: number;
  netns: string;
  hostIf: string;
  gateway: string;
  guest: string;
  proxyPort: number;
  ownerPid: number;
  ownerStart: string | null;
  profiles: string[];
  credentials: string[];
  createdAt: string;
  endedAt: string | null;
  exitStatus: number | null;
}

interface Row {
  id: string;
  name: string | null;
  slot: number;
  netns: string;
  host_if: string;
  gateway: string;
  guest: string;
  proxy_port: number;
  owner_pid: number;
  owner_start: string | null;
  profiles: string;
  credentials: string;
  created_at: string;
  ended_at: string | null;
  exit_status: number | null;
}

function fromRow(r: Row): SandboxRecord {
  return {
    id: r.id,
    name: r.name,
    slot: r.slot,
    netns: r.netns,
    hostIf: r.host_if,
    gateway: r.gateway,
    guest: r.guest,
    proxyPort: r.proxy_port,
    ownerPid: r.owner_pid,
    ownerStart: r.owner_start,
    profiles: JSON.parse(r.profiles) as string[],
    credentials: JSON.parse(r.credentials) as string[],
    createdAt: r.created_at,
    endedAt: r.ended_at,
    exitStatus: r.exit_status,
  };
}

/** What the caller knows before a slot is chosen; the addresses follow from the slot. */
export type NewSandbox = Omit<SandboxRecord, 'slot' | 'gateway' | 'guest' | 'endedAt' | 'exitStatus'>;

/** Sandbox rows: slot allocation (transactional, so parallel airlock processes never collide). */
export class SandboxRecords {
  readonly #db: Db;
  readonly #insert: Statement;
  readonly #liveSlots: Statement;
  readonly #live: Statement;
  readonly #liveByName: Statement;
  readonly #end: Statement;

  constructor(db: Db) {
    this.#db = db;
    this.#insert = db.prepare(
      `INSERT INTO sandboxes (id, name, slot, netns, host_if, gateway, guest, proxy_port, owner_pid, owner_start,
         profiles, credentials, created_at)
       VALUES (@id, @name, @slot, @netns, @hostIf, @gateway, @guest, @proxyPort, @ownerPid, @ownerStart,
         @profiles, @credentials, @createdAt)`,
    );
    this.#liveSlots = db.prepare('SELECT slot FROM sandboxes WHERE ended_at IS NULL ORDER BY slot').pluck();
    this.#live = db.prepare('SELECT * FROM sandboxes WHERE ended_at IS NULL ORDER BY created_at');
    this.#liveByName = db.prepare('SELECT id FROM sandboxes WHERE ended_at IS NULL AND name = ?');
    this.#end = db.prepare(
      'UPDATE sandboxes SET ended_at = @endedAt, exit_status = @exitStatus WHERE id = @id AND ended_at IS NULL',
    );
  }

  /**
   * Records a new live sandbox in the lowest free slot below `slotCount` and returns it,
   * or null when every slot is taken. `addressesOf` maps a slot to its gateway and guest;
   * `inUse` says whether a slot's addresses are already taken outside this database.
   */
  allocate(
    sandbox: NewSandbox,
    slotCount: number,
    addressesOf: (slot: number) => { gateway: string; guest: string },
    inUse: (slot: number) => boolean = () => false,
  ): SandboxRecord | null {
    return this.#db
      .transaction((): SandboxRecord | null => {
        if (sandbox.name !== null && this.#liveByName.get(sandbox.name) !== undefined) {
          throw new AirlockError(
            'AIRLOCK_ERR_NAME_TAKEN',
            `a live sandbox is already named "${sandbox.name}"`,
            {
              hint: 'choose another --name, or `airlock rm` the other one first',
            },
          );
        }
        const taken = new Set(this.#liveSlots.all() as number[]);
        let slot = 0;
        while (slot < slotCount && (taken.has(slot) || inUse(slot))) slot++;
        if (slot >= slotCount) return null;
        const record: SandboxRecord = {
          ...sandbox,
          slot,
          ...addressesOf(slot),
          endedAt: null,
          exitStatus: null,
        };
        this.#insert.run({
          ...record,
          profiles: JSON.stringify(record.profiles),
          credentials: JSON.stringify(record.credentials),
        });
        return record;
      })
      .immediate();
  }

  /** Marks a sandbox ended, freeing its slot; a second call changes nothing. */
  end(id: string, exitStatus: number | null, endedAt = new Date().toISOString()): void {
    this.#end.run({ id, exitStatus, endedAt });
  }

  live(): SandboxRecord[] {
    return (this.#live.all() as Row[]).map(fromRow);
  }
}
