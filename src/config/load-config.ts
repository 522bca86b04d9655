import { existsSync, readFileSync, statSync } from 'node:fs';
import type { z } from 'zod';
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
 * Every problem of parsed JSON in one pass, each with its path: the schema's, then the
 * cross-field checks run on what is left once the parts the schema refused are set aside
 * (so a bad `limits` does not hide an unknown credential), then `fileIssues` on the same.
 */
function configProblems(
  data: unknown,
  fileIssues: (config: AirlockConfig) => PolicyIssue[] = () => [],
): { issues: PolicyIssue[]; loaded?: LoadedConfig } {
  const first = ConfigSchema.safeParse(data);
  const schemaIssues = first.success ? [] : first.error.issues.map(toIssue);
  const salvaged = first.success ? { config: first.data, shifted: [] } : salvage(data);
  if (salvaged === undefined) return { issues: schemaIssues };
  const { config, shifted } = salvaged;
  const { issues, catalogue } = validateConfig(config);
  const later = [...issues, ...fileIssues(config)].map((i) => ({ ...i, path: filePath(i.path, shifted) }));
  const all = [...schemaIssues, ...later];
  return all.length === 0 && catalogue ? { issues: [], loaded: { config, catalogue } } : { issues: all };
}

function toIssue(issue: z.core.$ZodIssue): PolicyIssue {
  return { path: issue.path as (string | number)[], message: issue.message };
}

/**
 * The config with every part the schema refuses removed (so its default applies), for the
 * cross-field checks only; undefined when nothing usable is left. A part whose removal is
 * refused too (a required field) takes its parent with it. `shifted` holds the path of each
 * array element removed, in order: the elements after it moved up.
 */
function salvage(data: unknown): { config: AirlockConfig; shifted: PropertyKey[][] } | undefined {
  const copy: unknown = structuredClone(data);
  const removed = new Set<string>();
  const shifted: PropertyKey[][] = [];
  for (let round = 0; round < 16; round++) {
    const parsed = ConfigSchema.safeParse(copy);
    if (parsed.success) return { config: parsed.data, shifted };
    const thisRound = new Set<string>();
    for (const issue of parsed.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) remove(copy, [...issue.path, key]);
        continue;
      }
      let path = issue.path;
      if (thisRound.has(JSON.stringify(path.slice(0, -1)))) continue; // its parent just went
      while (path.length > 0 && removed.has(JSON.stringify(path))) path = path.slice(0, -1);
      const key = JSON.stringify(path);
      if (path.length === 0) return undefined;
      if (thisRound.has(key)) continue;
      removed.add(key);
      thisRound.add(key);
      if (remove(copy, path)) shifted.push(path);
    }
  }
  return undefined;
}

/** Deletes the value at `path`; true when it was an array element (the ones after it move up). */
function remove(root: unknown, path: readonly PropertyKey[]): boolean {
  let parent: unknown = root;
  for (const key of path.slice(0, -1)) {
    if (typeof parent !== 'object' || parent === null) return false;
    parent = (parent as Record<PropertyKey, unknown>)[key];
  }
  const last = path[path.length - 1]!;
  if (Array.isArray(parent) && typeof last === 'number') {
    parent.splice(last, 1);
    return true;
  }
  if (typeof parent === 'object' && parent !== null) delete (parent as Record<PropertyKey, unknown>)[last];
  return false;
}

/**
 * A path in the salvaged config as a path in the file: each removed array element (undone
 * last first) moves the indices at or after it in that array back up by one.
 */
function filePath(path: (string | number)[], shifted: readonly PropertyKey[][]): (string | number)[] {
  const out = [...path];
  for (const element of [...shifted].reverse()) {
    const at = element.length - 1;
    const index = out[at];
    if (out.length <= at || element.slice(0, at).some((k, i) => out[i] !== k)) continue;
    if (typeof index === 'number' && index >= (element[at] as number)) out[at] = index + 1;
  }
  return out;
}

/**
 * Validates parsed JSON against the schema and the cross-field checks. Pure; throws
 * AIRLOCK_ERR_CONFIG with one `path: message` line per problem, all of them at once. Never
 * falls back to a default for a value that is present but bad.
 */
export function parseConfig(data: unknown, source = 'config'): LoadedConfig {
  const { issues, loaded } = configProblems(data);
  if (!loaded) throw invalid(source, lines(issues));
  return loaded;
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
  const { issues, loaded } = configProblems(readConfigFile(file), missingFiles);
  if (!loaded) throw invalid(file, lines(issues));
  return { ...loaded, path: file };
}

/**
 * Every problem of one config file as `path: message` lines ([] = valid), for `airlock doctor
 * --config`. A file that cannot be read or is not JSON throws AIRLOCK_ERR_CONFIG.
 */
export function configFileProblems(file: string): string[] {
  return lines(configProblems(readConfigFile(file), missingFiles).issues);
}

function readConfigFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new AirlockError('AIRLOCK_ERR_CONFIG', `cannot read config file ${file} (${code})`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw invalid(file, [`(root): ${jsonError(text, error)}`]);
  }
}

/** CA files the config names that are not files. */
function missingFiles(config: AirlockConfig): PolicyIssue[] {
  const missing: PolicyIssue[] = [];
  const isFile = (p: string) => {
    try {
      return statSync(p).isFile();
    } catch {
      return false;
    }
  };
  config.upstreamCa.forEach((p, i) => {
    if (!isFile(p)) missing.push({ path: ['upstreamCa', i], message: `no such file ${p}` });
  });
  config.services.forEach((s, i) => {
    if (s.caFile !== undefined && !isFile(s.caFile)) {
      missing.push({ path: ['services', i, 'caFile'], message: `no such file ${s.caFile}` });
    }
  });
  return missing;
}
