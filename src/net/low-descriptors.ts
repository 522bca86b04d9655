import { closeSync, openSync } from 'node:fs';
import { AirlockError } from '../errors.js';

/**
 * glibc's FD_SETSIZE. libnftables waits for the kernel's answer to a transaction with select(),
 * whose set holds descriptors below this only: FD_SET on a higher one aborts the whole process
 * ("bit out of range 0 - FD_SETSIZE on fd_set"). Its netlink socket takes the lowest free
 * descriptor, and an engine holds one per guest connection, so on a busy engine that can be
 * 1,024 or more.
 */
export const FD_SETSIZE = 1024;

/** held back for the socket of one call, with room for a descriptor another thread takes meanwhile */
const RESERVE = 8;
let reserve: number[] = [];

/** Holds up to RESERVE descriptors below FD_SETSIZE (on /dev/null, closed on exec). */
function refill(): void {
  while (reserve.length < RESERVE) {
    const fd = openSync('/dev/null', 'r');
    if (fd >= FD_SETSIZE) {
      closeSync(fd);
      return;
    }
    reserve.push(fd);
  }
}

// taken when this module loads, while the process holds few descriptors
refill();

/**
 * Runs `use`, which opens a descriptor something will select() on and closes it again, with
 * the held low descriptors let go just before, so what it opens lands below FD_SETSIZE however
 * many the process holds. They are taken back afterwards, the one `use` held among them: a
 * descriptor freed later would go to whatever the process opens next. Throws
 * AIRLOCK_ERR_NET_SETUP rather than let the process abort when none is free (every low one
 * was taken before this module loaded).
 */
export function withLowDescriptor<T>(use: () => T): T {
  refill();
  if (reserve.length === 0) {
    throw new AirlockError(
      'AIRLOCK_ERR_NET_SETUP',
      `nft: every file descriptor below ${FD_SETSIZE} is in use, and nftables can wait on no other`,
    );
  }
  for (const fd of reserve) closeSync(fd);
  reserve = [];
  try {
    return use();
  } finally {
    refill();
  }
}
