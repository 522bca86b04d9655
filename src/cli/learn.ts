import { openAuditQuery } from '../audit/query.js';
import { airlockHome } from '../config/env-vars.js';
import { AirlockError } from '../errors.js';
import { PROFILE_NAME, proposeProfile, type Proposal } from '../policy/index.js';
import type { CliIo, Command } from './command.js';
import { parseFlags, stringFlag } from './flags.js';
import { renderTable } from './table.js';

const HELP = `Usage: airlock learn SANDBOX [--profile-name NAME] [--json]

Turns what a sandbox did into a proposed network profile for a person to review: every host
it reached, and per credential the narrowest METHOD /path-glob rules that cover the requests
it made (ids, hashes and numbers in paths become *), with the count behind each rule.
SANDBOX is a name or id from the audit log; a name takes every run of that name. Record a
run with \`airlock run --learn\` (or \`create --learn\`) so that endpoint rules refuse nothing.

Save the config it prints and run the same agent with it:
  airlock learn agent --json | jq .config > learned.json
  airlock run --config learned.json --profile learned-agent --cred … -- ./agent

Flags:
  --profile-name NAME the profile's name in the config (default: learned-SANDBOX)
  --json              print {profile, config, rules, hosts, refused} as one JSON object
  -h, --help          show this help

Refused requests of the recording are listed, never allowed. See docs/learn.md.
`;

export const learnCommand: Command = {
  help: HELP,
  run(args: string[], io: CliIo): Promise<number> {
    const { flags, rest, help } = parseFlags(
      args,
      { json: {}, 'profile-name': { value: true } },
      { command: 'learn' },
    );
    if (help) {
      io.stdout.write(HELP);
      return Promise.resolve(0);
    }
    const [sandbox, ...extra] = rest;
    if (sandbox === undefined || extra.length > 0) {
      throw new AirlockError('AIRLOCK_ERR_USAGE', 'airlock learn: name one sandbox', {
        hint: 'airlock learn SANDBOX [--json]',
      });
    }
    const profile =
      stringFlag(flags, 'profile-name') ??
      `learned-${sandbox.toLowerCase().replace(/[^a-z0-9-]+/g, '-')}`.slice(0, 63);
    if (!PROFILE_NAME.test(profile)) {
      throw new AirlockError(
        'AIRLOCK_ERR_USAGE',
        `airlock learn: "${profile}" is not a profile name (a-z, 0-9, -, starting with a letter)`,
      );
    }
    const audit = openAuditQuery({ home: airlockHome(io.env) });
    let proposal: Proposal;
    try {
      const rows = audit.list({ sandbox });
      if (rows.length === 0) {
        throw new AirlockError(
          'AIRLOCK_ERR_SANDBOX_UNKNOWN',
          `no recorded requests of sandbox "${sandbox}"`,
          {
            hint: 'airlock audit --query tokens-by-sandbox lists the sandboxes on record',
          },
        );
      }
      proposal = proposeProfile(rows, profile);
    } finally {
      audit.close();
    }
    io.stdout.write(flags.json ? `${JSON.stringify(proposal)}\n` : review(proposal, sandbox));
    return Promise.resolve(0);
  },
};

/** The proposal for people: what each rule rests on, what was refused, then the config itself. */
function review(p: Proposal, sandbox: string): string {
  const parts = [
    `Hosts ${sandbox} reached:\n`,
    renderTable(
      ['HOST', 'VIA', 'REQUESTS'],
      p.hosts.map((h) => [h.host, h.via === 'service' ? 'base URL' : 'forward proxy', h.requests]),
    ),
    `\nRules (narrowest that cover what was seen):\n`,
    renderTable(
      ['SERVICE', 'CREDENTIAL', 'RULE', 'REQUESTS', 'SEEN'],
      p.rules.map((r) => [r.service, r.credential, r.rule, r.requests, r.examples.join(' ')]),
    ),
  ];
  if (p.refused.length > 0) {
    parts.push(
      `\nRefused while recording (not allowed below; allow them by hand if they were meant):\n`,
      renderTable(
        ['METHOD', 'TARGET', 'REQUESTS', 'REASON'],
        p.refused.map((r) => [r.method, `${r.host}${r.path}`, r.requests, r.reason]),
      ),
    );
  }
  parts.push(
    `\nProposed config (review it; run with --config FILE --profile ${p.profile}):\n`,
    `${JSON.stringify(p.config, null, 2)}\n`,
  );
  return parts.join('');
}
