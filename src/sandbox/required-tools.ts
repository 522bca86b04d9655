import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { AirlockError } from '../errors.js';

/** The programs a sandbox is built and entered with, and the Debian package of each. */
export const REQUIRED_TOOLS = {
  nft: 'nftables',
  ip: 'iproute2',
  bwrap: 'bubblewrap',
  setpriv: 'util-linux',
  sysctl: 'procps',
} as const;

export type Tool = keyof typeof REQUIRED_TOOLS;

/** Where a program lives: PATH first, then the sbin folders a non-login root shell may lack. */
export function findTool(program: string, env: NodeJS.ProcessEnv = process.env): string | null {
  const dirs = (env.PATH ?? '').split(delimiter).filter(Boolean).concat(['/usr/sbin', '/sbin']);
  for (const dir of dirs) {
    try {
      accessSync(join(dir, program), constants.X_OK);
      return join(dir, program);
    } catch {
      // keep looking
    }
  }
  return null;
}

export function installCommand(tools: readonly Tool[]): string {
  return `sudo apt-get install -y ${[...new Set(tools.map((t) => REQUIRED_TOOLS[t]))].join(' ')}`;
}

/** Absolute paths of every required program, or one error naming all that are missing. */
export function requireTools(env: NodeJS.ProcessEnv = process.env): Record<Tool, string> {
  const found = {} as Record<Tool, string>;
  const missing: Tool[] = [];
  for (const tool of Object.keys(REQUIRED_TOOLS) as Tool[]) {
    const path = findTool(tool, env);
    if (path) found[tool] = path;
    else missing.push(tool);
  }
  if (missing.length > 0) {
    throw new AirlockError('AIRLOCK_ERR_MISSING_TOOL', `missing ${missing.join(', ')}`, {
      hint: `install with: ${installCommand(missing)} (or run scripts/install.sh)`,
    });
  }
  return found;
}
