import { AirlockError } from '../errors.js';
import { inNetns } from './ip.js';
import { runCommand } from './run.js';

/** Applies a ruleset text atomically (`nft -f -`), inside `netns` when given. */
export async function nftApply(ruleset: string, netns?: string): Promise<void> {
  const r =
    netns === undefined
      ? await runCommand('nft', ['-f', '-'], ruleset)
      : await inNetns(netns, 'nft', ['-f', '-'], ruleset);
  if (!r.ok)
    throw new AirlockError(
      'AIRLOCK_ERR_NFT_APPLY',
      `nft -f failed${netns ? ` in ${netns}` : ''}: ${r.stderr}`,
    );
}

/** Runs an nft command (argument array) and returns its stdout, or null when it fails. */
export async function nftQuery(args: readonly string[], netns?: string): Promise<string | null> {
  const r = netns === undefined ? await runCommand('nft', args) : await inNetns(netns, 'nft', args);
  return r.ok ? r.stdout : null;
}
