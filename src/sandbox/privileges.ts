import { AirlockError } from '../errors.js';

/** Namespaces and nftables need root; say so in one line, with the fix. */
export function assertRoot(what: string): void {
  if (process.geteuid?.() !== 0) {
    throw new AirlockError('AIRLOCK_ERR_NOT_ROOT', `${what} needs root (CAP_NET_ADMIN)`, {
      hint: 'run it with sudo — or inside the Vagrant VM (vagrant up && vagrant ssh)',
    });
  }
}
