import { collectGarbage } from '../sandbox/gc.js';
import { openState } from '../sandbox/state.js';
import { airlockHome } from '../config/env-vars.js';
import { assertRoot } from '../sandbox/privileges.js';
import type { CliIo, Command } from './command.js';
import { parseFlags } from './flags.js';

const HELP = `Usage: airlock gc [--json]

Finds and removes what crashed runs left behind: sandboxes whose airlock process is gone,
and any airlock namespace (airlock-*), link (al-*), nftables set element, /etc/netns folder
or cgroup (airlock-*, with any process still in it) that no live sandbox owns. Also runs
before each new sandbox is made.

Flags:
  --json       print what was removed as one JSON object
  -h, --help   show this help
`;

export const gcCommand: Command = {
  help: HELP,
  async run(args: string[], io: CliIo): Promise<number> {
    const { flags, help } = parseFlags(args, { json: {} }, { command: 'gc' });
    if (help) {
      io.stdout.write(HELP);
      return 0;
    }
    assertRoot('airlock gc');
    const state = openState(airlockHome(io.env));
    try {
      const report = await collectGarbage(state);
      if (flags.json) {
        io.stdout.write(`${JSON.stringify(report)}\n`);
      } else {
        const removed = (Object.entries(report) as [string, string[]][]).filter(
          ([, list]) => list.length > 0,
        );
        if (removed.length === 0) io.stdout.write('nothing to remove\n');
        for (const [kind, list] of removed) io.stdout.write(`removed ${kind}: ${list.join(' ')}\n`);
      }
      return 0;
    } finally {
      state.close();
    }
  },
};
