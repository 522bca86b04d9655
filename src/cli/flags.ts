import { didYouMean } from '../did-you-mean.js';
import { AirlockError } from '../errors.js';

/** One flag a command accepts. */
export interface FlagSpec {
  /** takes a value (`--name VALUE` or `--name=VALUE`) */
  value?: boolean;
  /** may be given more than once (values collected in order) */
  multiple?: boolean;
}

export type FlagValues = Record<string, string | string[] | boolean | undefined>;

export interface ParsedFlags {
  flags: FlagValues;
  /** positionals; with `stopAtPositional`, the first positional and everything after it */
  rest: string[];
  help: boolean;
}

/**
 * Parses `--flag`, `--flag VALUE`, `--flag=VALUE` and `--`. With `stopAtPositional`, the first
 * non-flag word starts a command line that is passed through untouched (`airlock run CMD -x`).
 * Unknown flags are an error that lists the valid ones (and the closest one). A value given as
 * the next word may not start with `-` (`--name --` is a forgotten value, not the name `--`);
 * `--name=-x` says it is meant.
 */
export function parseFlags(
  args: readonly string[],
  spec: Record<string, FlagSpec>,
  options: { stopAtPositional?: boolean; command: string },
): ParsedFlags {
  const flags: FlagValues = {};
  const rest: string[] = [];
  let help = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      rest.push(...args.slice(i + 1));
      break;
    }
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    if (!arg.startsWith('-') || arg === '-') {
      if (options.stopAtPositional) {
        rest.push(...args.slice(i));
        break;
      }
      rest.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') ? arg.slice(2, eq < 0 ? undefined : eq) : '';
    const s = spec[name];
    if (!s) {
      const given = arg.split('=')[0]!;
      const valid = Object.keys(spec)
        .map((n) => `--${n}`)
        .concat('--help');
      throw new AirlockError('AIRLOCK_ERR_USAGE', `airlock ${options.command}: unknown flag ${given}`, {
        hint: `${didYouMean(given, valid)}valid flags: ${valid.join(', ')}`,
      });
    }
    let value: string | boolean = true;
    if (s.value) {
      if (eq >= 0) value = arg.slice(eq + 1);
      else if (i + 1 < args.length && !args[i + 1]!.startsWith('-')) value = args[++i]!;
      else {
        const next = args[i + 1];
        throw new AirlockError(
          'AIRLOCK_ERR_USAGE',
          `airlock ${options.command}: --${name} needs a value${next === undefined ? '' : `, not "${next}"`}`,
          { hint: next === undefined ? undefined : `write --${name}=${next} if the value starts with "-"` },
        );
      }
    } else if (eq >= 0) {
      throw new AirlockError('AIRLOCK_ERR_USAGE', `airlock ${options.command}: --${name} takes no value`);
    }
    if (s.multiple) flags[name] = [...((flags[name] as string[] | undefined) ?? []), String(value)];
    else if (flags[name] !== undefined) {
      throw new AirlockError('AIRLOCK_ERR_USAGE', `airlock ${options.command}: --${name} given twice`);
    } else flags[name] = value;
  }
  return { flags, rest, help };
}

export function stringFlag(flags: FlagValues, name: string): string | undefined {
  const v = flags[name];
  return typeof v === 'string' ? v : undefined;
}

export function listFlag(flags: FlagValues, name: string): string[] {
  const v = flags[name];
  return Array.isArray(v) ? v : [];
}

/** `--intercept credentials|all` (undefined = the config's). */
export function interceptFlag(value: string | undefined): 'credentials' | 'all' | undefined {
  if (value === undefined || value === 'credentials' || value === 'all') return value;
  throw new AirlockError('AIRLOCK_ERR_USAGE', `--intercept ${value}: expected credentials or all`);
}
