import { AirlockError } from '../errors.js';
import type { AddressPool } from '../net/address-pool.js';
import { hostLinks, localIpv4Addresses } from '../net/ip.js';
import { listNetns } from '../net/netns.js';
import { withHostLock } from '../store/host-lock.js';
import type { NewSandbox, SandboxRecord } from '../store/sandbox-records.js';
import { newSandboxId, sandboxNames } from './names.js';
import { createHostLink, teardownSandbox } from './resources.js';
import type { State } from './state.js';

/** What the caller knows of a new sandbox; its id, names and addresses are chosen here. */
export type SandboxRequest = Omit<NewSandbox, 'id' | 'netns' | 'hostIf'>;

/**
 * Chooses a new sandbox's id and /30, records it live and makes its host link with the gateway
 * address, all under the host-wide lock, so no other airlock process, whatever its AIRLOCK_HOME,
 * picks the same slot or names, and makes its namespace too. The kernel is the truth every home shares: a slot is free only
 * when no address of its /30 is on a host interface and this home's database has no live
 * sandbox in it; an id is free when no link or namespace carries its names. On failure nothing
 * is left: the link is removed and the record ended.
 */
export async function allocateSandbox(
  state: State,
  pool: AddressPool,
  request: SandboxRequest,
): Promise<SandboxRecord> {
  return withHostLock(async () => {
    const hostSlots = new Set(
      localIpv4Addresses()
        .map((a) => pool.slotOf(a))
        .filter((slot) => slot !== null),
    );
    const id = freshId(new Set([...hostLinks().map((l) => l.name), ...listNetns()]));
    const record = state.sandboxes.allocate(
      { ...request, id, ...sandboxNames(id) },
      pool.slots,
      (slot) => pool.addressesOf(slot),
      (slot) => hostSlots.has(slot),
    );
    if (record === null) {
      throw new AirlockError(
        'AIRLOCK_ERR_POOL_EXHAUSTED',
        `address pool ${pool.cidr} is full: all ${pool.slots} slots are in use by sandboxes or other host addresses`,
        { hint: 'close sandboxes, run `airlock gc`, or configure a larger pool' },
      );
    }
    try {
      createHostLink(record, state.home);
    } catch (error) {
      await teardownSandbox(record).catch(() => undefined);
      state.sandboxes.end(record.id, null);
      throw error;
    }
    return record;
  });
}

/** A random id none of whose names (namespace, host link) exists on the host. */
function freshId(taken: ReadonlySet<string>): string {
  for (;;) {
    const id = newSandboxId();
    const { netns, hostIf } = sandboxNames(id);
    if (!taken.has(netns) && !taken.has(hostIf)) return id;
  }
}
