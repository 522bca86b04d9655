import { realpathSync } from 'node:fs';
import { AirlockError } from '../errors.js';
import { findProgram } from '../net/run.js';

/** The programs a sandbox is built and entered with, and the Debian package of each. */
export const REQUIRED_TOOLS = {
  nft: 'nftables',
  ip: 'iproute2',
  bwrap: 'bubblewrap',
  setpriv: 'util-linux',
  sysctl: 'procps',
} as const;

export type Tool = keyof typeof REQUIRED_TOOLS;

export function installCommand(tools: readonly Tool[]): string {
  return `sudo apt-get install -y ${[...new Set(tools.map((t) => REQUIRED_TOOLS[t]))].join(' ')}`;
}

/**
 * Absolute paths of every required program, or one error naming all that are missing. Links
 * are resolved: bubblewrap and setpriv are run by path inside the guest's view, which shows
 * the system folders but not, say, a folder of links in /tmp that PATH named.
 */
export function requireTools(env: NodeJS.ProcessEnv = process.env): Record<Tool, string> {
  const found = {} as Record<Tool, string>;
  const missing: Tool[] = [];
  for (const tool of Object.keys(REQUIRED_TOOLS) as Tool[]) {
    const path = findProgram(tool, env);
    if (path) found[tool] = realpathSync(path);
    else missing.push(tool);
  }
  if (missing.length > 0) {
    throw new AirlockError('AIRLOCK_ERR_MISSING_TOOL', `missing ${missing.join(', ')}`, {
      hint: `install with: ${installCommand(missing)} (or run scripts/install.sh)`,
    });
  }
  return found;
}
