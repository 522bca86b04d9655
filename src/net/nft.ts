import { AirlockError } from '../errors.js';
import { loadLibrary, withSignalsHeld, type CFunction } from './libc.js';
import { withLowDescriptor } from './low-descriptors.js';
import { inNetns } from './netns.js';

/**
 * nftables in this process, through libnftables (the library the `nft` program is a thin
 * front of: same parser, same messages), so that a ruleset costs a millisecond, not an `nft`
 * process (~9 ms of its own start here, and a fork of this one). A fresh context per call:
 * a context caches the ruleset of the namespace it was made in.
 */

const SIGNATURES = {
  ctxNew: 'void *nft_ctx_new(uint32_t flags)',
  ctxFree: 'void nft_ctx_free(void *ctx)',
  setFlags: 'void nft_ctx_output_set_flags(void *ctx, unsigned int flags)',
  bufferOutput: 'int nft_ctx_buffer_output(void *ctx)',
  bufferError: 'int nft_ctx_buffer_error(void *ctx)',
  output: 'const char *nft_ctx_get_output_buffer(void *ctx)',
  error: 'const char *nft_ctx_get_error_buffer(void *ctx)',
  run: 'int nft_run_cmd_from_buffer(void *ctx, const char *buf)',
} as const;

// nftables.h: the output flags of the command-line options -a, -j, -e
const OUTPUT_FLAGS = { '-a': 1 << 3, '-j': 1 << 4, '-e': 1 << 5 } as const;
type OutputFlag = keyof typeof OUTPUT_FLAGS;

type Nftables = Record<keyof typeof SIGNATURES, CFunction>;
let lib: Nftables | undefined;

function nftables(): Nftables {
  if (lib === undefined) {
    const so = loadLibrary('libnftables.so.1', "nftables' library; install the nftables package");
    lib = Object.fromEntries(
      Object.entries(SIGNATURES).map(([k, sig]) => [k, so.func(sig) as CFunction]),
    ) as Nftables;
  }
  return lib;
}

interface NftResult {
  ok: boolean;
  output: string;
  error: string;
}

/** Runs nft commands (a ruleset file's text) in this thread's namespace, as `nft [flags] -f -` would. */
function run(commands: string, flags: readonly OutputFlag[]): NftResult {
  // the context's netlink socket, which libnftables select()s on, lives from ctxNew to ctxFree:
  // its low descriptor must be free again before the reserve is taken back
  return withLowDescriptor(() => {
    const f = nftables();
    const ctx: unknown = f.ctxNew(0);
    if (ctx === null)
      throw new AirlockError('AIRLOCK_ERR_NFT_APPLY', 'nft: cannot make a libnftables context');
    try {
      f.setFlags(
        ctx,
        flags.reduce((all, flag) => all | OUTPUT_FLAGS[flag], 0),
      );
      f.bufferOutput(ctx);
      f.bufferError(ctx);
      const rc = Number(withSignalsHeld(() => f.run(ctx, commands)));
      return {
        ok: rc === 0,
        output: (f.output(ctx) as string | null) ?? '',
        error: ((f.error(ctx) as string | null) ?? '').trim(),
      };
    } finally {
      f.ctxFree(ctx);
    }
  });
}

function runIn(netns: string | undefined, commands: string, flags: readonly OutputFlag[]): NftResult {
  return netns === undefined ? run(commands, flags) : inNetns(netns, () => run(commands, flags));
}

/**
 * Applies a ruleset text atomically (what `nft -f -` does), inside `netns` when given. With
 * `echo`, returns what the kernel reports it committed (`nft -e`), so a caller can check it.
 */
export function nftApply(ruleset: string, netns?: string, echo = false): string {
  const r = runIn(netns, ruleset, echo ? ['-e'] : []);
  if (!r.ok) {
    throw new AirlockError(
      'AIRLOCK_ERR_NFT_APPLY',
      `nft -f failed${netns ? ` in ${netns}` : ''}: ${r.error}`,
    );
  }
  return r.output;
}

/**
 * Runs one nft command given as `nft`'s arguments (leading -a, -j, -e flags, then the
 * command's words) and returns its output, or null when it fails.
 */
export function nftQuery(args: readonly string[], netns?: string): string | null {
  const isFlag = (a: string): a is OutputFlag => Object.hasOwn(OUTPUT_FLAGS, a);
  const flags = args.filter(isFlag);
  const words = args.filter((a) => !isFlag(a));
  const r = runIn(netns, words.join(' '), flags);
  return r.ok ? r.output : null;
}
