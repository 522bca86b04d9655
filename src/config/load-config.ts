import { existsSync, readFileSync, statSync } from 'node:fs';
import type { Catalogue } from '../catalogue/catalogue.js';
import { AirlockError } from '../errors.js';
import { formatIssuePath, type PolicyIssue } from '../policy/index.js';
import { DEFAULT_CONFIG_PATH, ENV } from './env-vars.js';
import { ConfigSchema, type AirlockConfig } from './schema.js';
import { validateConfig } from './validate-config.js';

export interface LoadedConfig {
  config: AirlockConfig;
  /** built-in services plus the config's custom ones */
  catalogue: Catalogue;
  /** the file read (omitted = no file: every default) */
  path?: string;
}

function invalid(source: string, lines: string[]): AirlockError {
  return new AirlockError(
    'AIRLOCK_ERR_CONFIG',
    `invalid config ${source} (${lines.length} problem${lines.length === 1 ? '' : 's'}):\n${lines.join('\n')}`,
    { hint: 'correct each `path: message` line; `docs/config.md` describes every field' },
  );
}

const lines = (issues: readonly PolicyIssue[]) =>
  issues.map((i) => `${formatIssuePath(i.path)}: ${i.message}`);

/**
 * Validates parsed JSON against the schema and the cross-field checks. Pure; throws
 * AIRLOCK_ERR_CONFIG with one `path: message` line per problem. Never falls back to a
 * default for a value that is present but bad.
 */
export function parseConfig(data: unknown, source = 'config'): LoadedConfig {
  const parsed = ConfigSchema.safeParse(data);
  if (!parsed.success) {
    throw invalid(
      source,
      lines(parsed.error.issues.map((i) => ({ path: i.path as (string | number)[], message: i.message }))),
    );
  }
  const { issues, catalogue } = validateConfig(parsed.data);
  if (issues.length > 0 || !catalogue) throw invalid(source, lines(issues));
  return { config: parsed.data, catalogue };
}

/** JSON.parse messages can quote file content (maybe a secret); keep only the position. */
function jsonError(text: string, error: unknown): string {
  const m = /position (\d+)/.exec(error instanceof Error ? error.message : '');
  if (!m) return 'not valid JSON';
  const before = text.slice(0, Number(m[1]));
  const line = before.split('\n').length;
  const column = before.length - before.lastIndexOf('\n');
  return `not valid JSON (line ${line}, column ${column})`;
}

export interface LoadConfigOptions {
  /** where AIRLOCK_CONFIG is read (omitted = process.env) */
  env?: NodeJS.ProcessEnv;
  /** used when neither `path` nor AIRLOCK_CONFIG is given, if it exists (omitted = /etc/airlock/config.json) */
  defaultPath?: string;
}

/**
 * Reads and validates the config file: `path` (from --config), else $AIRLOCK_CONFIG, else
 * the default path if it exists, else every default. A named file that is missing is an
 * error. CA files it names must exist.
 */
export function loadConfig(path?: string, options: LoadConfigOptions = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const named = path ?? (env[ENV.config] || undefined);
  const file = named ?? options.defaultPath ?? DEFAULT_CONFIG_PATH;
  if (named === undefined && !existsSync(file)) return parseConfig({}, 'defaults');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new AirlockError('AIRLOCK_ERR_CONFIG', `cannot read config file ${file} (${code})`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw invalid(file, [`(root): ${jsonError(text, error)}`]);
  }
  const loaded = parseConfig(data, file);
  const missing: PolicyIssue[] = [];
  const isFile = (p: string) => {
    try {
      return statSync(p).isFile();
    } catch {
      return false;
    }
  };
  loaded.config.upstreamCa.forEach((p, i) => {
    if (!isFile(p)) missing.push({ path: ['upstreamCa', i], message: `no such file ${p}` });
  });
  loaded.config.services.forEach((s, i) => {
    if (s.caFile !== undefined && !isFile(s.caFile)) {
      missing.push({ path: ['services', i, 'caFile'], message: `no such file ${s.caFile}` });
    }
  });
  if (missing.length > 0) throw invalid(file, lines(missing));
  return { ...loaded, path: file };
}
