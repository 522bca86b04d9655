import { AirlockError } from '../errors.js';
import { inNetns } from './ip.js';
import { runCommand } from './run.js';

/**
 * Applies a ruleset text atomically (`nft -f -`), inside `netns` when given. With `echo`, returns
 * what the kernel reports it committed (`nft -e`), so a caller can check it in the same process.
 */
export async function nftApply(ruleset: string, netns?: string, echo = false): Promise<string> {
  const args = echo ? ['-e', '-f', '-'] : ['-f', '-'];
  const r =
    netns === undefined ? await runCommand('nft', args, ruleset) : await inNetns(netns, 'nft', args, ruleset);
  if (!r.ok)
    throw new AirlockError(
      'AIRLOCK_ERR_NFT_APPLY',
      `nft -f failed${netns ? ` in ${netns}` : ''}: ${r.stderr}`,
    );
  return r.stdout;
}

/** Runs an nft command (argument array) and returns its stdout, or null when it fails. */
export async function nftQuery(args: readonly string[], netns?: string): Promise<string | null> {
  const r = netns === undefined ? await runCommand('nft', args) : await inNetns(netns, 'nft', args);
  return r.ok ? r.stdout : null;
}
