import { loadConfig } from '../config/index.js';
import {
  createSandboxPolicy,
  formatHostPattern,
  OPEN_WARNING,
  PRESET_PROFILES,
  type ProfileDefinition,
} from '../policy/index.js';
import { AirlockError } from '../errors.js';
import type { CliIo, Command } from './command.js';
import { parseFlags, stringFlag } from './flags.js';

/** One profile as listed (also the `--json` shape). */
export interface ProfileListing {
  name: string;
  builtin: boolean;
  description: string;
  extends: string[];
  /** every host it allows, including those of the profiles it extends */
  hosts: string[];
  /** those of `hosts` reached only with a credential of the sandbox, never an opaque tunnel (llm-only's) */
  credentialOnly: string[];
  /** any public host through the forward proxy */
  open: boolean;
  /** endpoint rules per service, including those of the profiles it extends */
  endpoints: Record<string, string[]>;
  warning?: string;
}

const HELP = `Usage: airlock profiles [--json] [--config FILE]

Lists the network profiles (built-in and from the config file) with the hosts
each allows. Use them with \`airlock run --profile NAME\` (repeatable: profiles
add up). Without --profile a sandbox reaches only its credentials' services.

Flags:
  --json         print JSON instead of a table
  --config FILE  config file with custom profiles (default: $AIRLOCK_CONFIG,
                 else /etc/airlock/config.json if present)
`;

export function listProfiles(configPath: string | undefined, env: NodeJS.ProcessEnv): ProfileListing[] {
  const { config, catalogue } = loadConfig(configPath, { env });
  const custom: Record<string, ProfileDefinition> = config.profiles;
  const entries: [string, boolean, ProfileDefinition & { description?: string }][] = [
    ...PRESET_PROFILES.map((p): [string, boolean, ProfileDefinition] => [p.name, true, p]),
    ...Object.entries(custom).map(([n, d]): [string, boolean, ProfileDefinition] => [n, false, d]),
  ];
  return entries.map(([name, builtin, def]) => {
    const policy = createSandboxPolicy({ catalogue, profiles: [name], customProfiles: custom });
    const endpoints: Record<string, string[]> = {};
    // rules as the composed policy sees them, without granting anything
    for (const [service, texts] of Object.entries(def.endpoints ?? {})) endpoints[service] = [...texts];
    const listing: ProfileListing = {
      name,
      builtin,
      description: def.description ?? '',
      extends: [...(def.extends ?? [])],
      hosts: [...policy.hosts, ...policy.credentialOnlyHosts].map(formatHostPattern),
      credentialOnly: policy.credentialOnlyHosts.map(formatHostPattern),
      open: policy.open,
      endpoints,
    };
    if (policy.open) listing.warning = OPEN_WARNING;
    return listing;
  });
}

function renderTable(rows: ProfileListing[]): string {
  const width = Math.max(...rows.map((r) => r.name.length)) + 2;
  const out: string[] = [];
  for (const r of rows) {
    const mark = r.open ? '!' : ' ';
    const tag = r.builtin ? '' : ' (config)';
    out.push(`${mark} ${r.name.padEnd(width)}${r.description}${tag}`);
    const hosts = r.open ? 'any public host' : r.hosts.length ? r.hosts.join(', ') : '(none)';
    out.push(`  ${''.padEnd(width)}hosts: ${hosts}`);
    if (r.credentialOnly.length) out.push(`  ${''.padEnd(width)}(with a granted credential only)`);
    if (r.extends.length) out.push(`  ${''.padEnd(width)}extends: ${r.extends.join(', ')}`);
    for (const [service, rules] of Object.entries(r.endpoints)) {
      out.push(`  ${''.padEnd(width)}${service}: ${rules.join(', ')}`);
    }
  }
  if (rows.some((r) => r.open)) out.push('', `! warning: ${OPEN_WARNING}`);
  return `${out.join('\n')}\n`;
}

function runProfiles(args: string[], io: CliIo): number {
  const { flags, rest, help } = parseFlags(
    args,
    { json: {}, config: { value: true } },
    { command: 'profiles' },
  );
  if (help) {
    io.stdout.write(HELP);
    return 0;
  }
  if (rest.length > 0) {
    throw new AirlockError('AIRLOCK_ERR_USAGE', `airlock profiles: unexpected argument "${rest[0]}"`);
  }
  const rows = listProfiles(stringFlag(flags, 'config'), io.env);
  io.stdout.write(flags.json === true ? `${JSON.stringify(rows, null, 2)}\n` : renderTable(rows));
  return 0;
}

export const profilesCommand: Command = {
  help: HELP,
  // a Promise executor turns a thrown AirlockError into a rejection
  run: (args: string[], io: CliIo) => new Promise<number>((resolve) => resolve(runProfiles(args, io))),
};
