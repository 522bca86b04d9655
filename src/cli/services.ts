import type { CredentialCarrier } from '../catalogue/service.js';
import { loadConfig } from '../config/index.js';
import { BUILTIN_SERVICES } from '../catalogue/builtin.js';
import { AirlockError } from '../errors.js';
import type { CliIo, Command } from './command.js';
import { parseFlags, stringFlag } from './flags.js';

/** One service as listed (also the `--json` shape). Holds no secret, ever. */
export interface ServiceListing {
  name: string;
  title: string;
  builtin: boolean;
  envVar: string;
  aliases: string[];
  upstream: string;
  hosts: string[];
  carrier: string;
  /** variables set in the guest, with the suffix appended to the proxy route */
  baseUrlVariables: { name: string; suffix: string }[];
  /** the service whose credential this one sends (omitted = its own) */
  credentialOf?: string;
  /** URL prefixes the guest's git rewrites to this service's route (empty = none) */
  gitUrls: string[];
  llm: boolean;
}

const HELP = `Usage: airlock services [--json] [--config FILE]

Lists the services airlock can hold a credential for (built-in and custom from
the config file): the variable to pass with --cred, its aliases, the upstream
hosts, how the credential is carried, and the base-URL variables the guest gets.

Flags:
  --json         print JSON instead of a table
  --config FILE  config file with custom services (default: $AIRLOCK_CONFIG,
                 else /etc/airlock/config.json if present)
`;

export function describeCarrier(c: CredentialCarrier): string {
  switch (c.kind) {
    case 'header':
      return `header ${c.header}: ${c.template}`;
    case 'basic':
      return `HTTP Basic (user ${c.username})`;
    case 'query':
      return `query ?${c.param}={secret}`;
  }
}

export function listServices(configPath: string | undefined, env: NodeJS.ProcessEnv): ServiceListing[] {
  const { catalogue } = loadConfig(configPath, { env });
  return catalogue.services.map((s) => ({
    name: s.name,
    title: s.title,
    builtin: BUILTIN_SERVICES.includes(s),
    envVar: s.envVar,
    aliases: [...s.aliases],
    upstream: s.upstream,
    hosts: [...s.hosts],
    carrier: describeCarrier(s.carrier),
    baseUrlVariables: s.baseUrlVariables.map((v) => ({ name: v.name, suffix: v.suffix ?? '' })),
    ...(s.credentialOf === undefined ? {} : { credentialOf: s.credentialOf }),
    gitUrls: [...(s.gitUrls ?? [])],
    llm: s.llm,
  }));
}

function renderTable(rows: ServiceListing[]): string {
  const nameWidth = Math.max(...rows.map((r) => r.name.length)) + 2;
  const out: string[] = [];
  for (const r of rows) {
    const vars = [r.envVar, ...r.aliases].join(', ');
    out.push(`${r.name.padEnd(nameWidth)}${r.title}${r.builtin ? '' : ' (config)'}${r.llm ? ' [llm]' : ''}`);
    const pad = ''.padEnd(nameWidth);
    out.push(`${pad}credential: ${vars}${r.credentialOf ? ` (that of ${r.credentialOf})` : ''}`);
    out.push(`${pad}hosts:      ${r.hosts.join(', ')}`);
    out.push(`${pad}carried as: ${r.carrier}`);
    const base = r.baseUrlVariables.map((v) => `${v.name}=…/proxy/${r.name}${v.suffix}`).join(', ');
    out.push(`${pad}base URL:   ${base || '(none)'}`);
    if (r.gitUrls.length > 0) out.push(`${pad}git:        ${r.gitUrls.join(', ')} → …/proxy/${r.name}/`);
  }
  return `${out.join('\n')}\n`;
}

function runServices(args: string[], io: CliIo): number {
  const { flags, rest, help } = parseFlags(
    args,
    { json: {}, config: { value: true } },
    { command: 'services' },
  );
  if (help) {
    io.stdout.write(HELP);
    return 0;
  }
  if (rest.length > 0) {
    throw new AirlockError('AIRLOCK_ERR_USAGE', `airlock services: unexpected argument "${rest[0]}"`);
  }
  const rows = listServices(stringFlag(flags, 'config'), io.env);
  io.stdout.write(flags.json === true ? `${JSON.stringify(rows, null, 2)}\n` : renderTable(rows));
  return 0;
}

export const servicesCommand: Command = {
  help: HELP,
  // a Promise executor turns a thrown AirlockError into a rejection
  run: (args: string[], io: CliIo) => new Promise<number>((resolve) => resolve(runServices(args, io))),
};
