import { loadConfig } from '../config/index.js';
import { AirlockError } from '../errors.js';
import { PRESET_PROFILES } from '../policy/index.js';
import type { CliIo, Command, CommandEntry } from './command.js';
import { parseFlags, stringFlag } from './flags.js';

const HELP = `Usage: airlock completion bash|zsh [--config FILE]

Prints a shell completion script: commands, each command's flags, profile names after
--profile and credential variables after --cred (the built-in ones and those of the
config file, as they are now: print the script again after changing the config).

  bash:  airlock completion bash > /etc/bash_completion.d/airlock
         (or: source <(airlock completion bash) in ~/.bashrc)
  zsh:   airlock completion zsh > "\${fpath[1]}/_airlock"
         (or: source <(airlock completion zsh) in ~/.zshrc, after compinit)

Flags:
  --config FILE  config file with custom profiles and services (default: $AIRLOCK_CONFIG,
                 else /etc/airlock/config.json if present)
  -h, --help     show this help
`;

/** What the scripts complete, gathered once when the script is printed. */
export interface CompletionData {
  commands: string[];
  /** each command's flags, as its help lists them */
  flags: Record<string, string[]>;
  profiles: string[];
  credentials: string[];
}

/** The flags a help text lists: each indented line of it that starts with `-x` or `--xyz`. */
export function helpFlags(help: string): string[] {
  const flags = new Set<string>();
  for (const line of help.split('\n')) {
    const m = /^\s+(-{1,2}[a-z][a-z-]*)(?:,\s+(--[a-z][a-z-]*))?/.exec(line);
    if (m) for (const f of m.slice(1)) if (f !== undefined) flags.add(f);
  }
  return [...flags];
}

export async function completionData(
  commands: readonly CommandEntry[],
  configPath: string | undefined,
  env: NodeJS.ProcessEnv,
): Promise<CompletionData> {
  const loaded = loadConfig(configPath, { env });
  const flags: Record<string, string[]> = {};
  for (const entry of commands) flags[entry.name] = helpFlags((await entry.load()).help);
  return {
    commands: commands.map((c) => c.name),
    flags,
    profiles: [...PRESET_PROFILES.map((p) => p.name), ...Object.keys(loaded.config.profiles)],
    credentials: loaded.catalogue.services.flatMap((s) => [s.envVar, ...s.aliases]),
  };
}

const words = (list: readonly string[]) => list.join(' ');

/** The case branches of both scripts: one per command, completing its flags. */
function flagCases(data: CompletionData, body: (flags: string) => string): string {
  return Object.entries(data.flags)
    .map(([command, flags]) => `    ${command}) ${body(words(flags))} ;;`)
    .join('\n');
}

export function bashScript(data: CompletionData): string {
  return `# airlock completion for bash (airlock completion bash)
_airlock() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]} i
  COMPREPLY=()
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "${words(data.commands)} help --help --version" -- "$cur"))
    return
  fi
  # after --, the words are the guest's command: leave them to the default completion
  for ((i = 2; i < COMP_CWORD; i++)); do [ "\${COMP_WORDS[i]}" = "--" ] && return; done
  case $prev in
    --profile) COMPREPLY=($(compgen -W "${words(data.profiles)}" -- "$cur")); return ;;
    --cred) COMPREPLY=($(compgen -W "${words(data.credentials)}" -- "$cur")); return ;;
  esac
  case \${COMP_WORDS[1]} in
    help) [ "$COMP_CWORD" -eq 2 ] && COMPREPLY=($(compgen -W "${words(data.commands)}" -- "$cur")); return ;;
    completion) [[ $cur == -* ]] || { COMPREPLY=($(compgen -W "bash zsh" -- "$cur")); return; } ;;
  esac
  [[ $cur == -* ]] || return
  case \${COMP_WORDS[1]} in
${flagCases(data, (flags) => `COMPREPLY=($(compgen -W "${flags}" -- "$cur"))`)}
  esac
}
complete -o default -o bashdefault -F _airlock airlock
`;
}

export function zshScript(data: CompletionData): string {
  return `#compdef airlock
# airlock completion for zsh (airlock completion zsh)
_airlock() {
  local cmd=\${words[2]} prev=\${words[CURRENT-1]}
  if (( CURRENT == 2 )); then
    compadd -- ${words(data.commands)} help --help --version
    return
  fi
  # after --, the words are the guest's command
  local dashes=\${words[(i)--]}
  if (( dashes > 2 && dashes < CURRENT )); then _files; return; fi
  case $prev in
    --profile) compadd -- ${words(data.profiles)}; return ;;
    --cred) compadd -- ${words(data.credentials)}; return ;;
  esac
  if [[ $cmd == help ]]; then (( CURRENT == 3 )) && compadd -- ${words(data.commands)}; return; fi
  if [[ $cmd == completion && $PREFIX != -* ]]; then compadd -- bash zsh; return; fi
  if [[ $PREFIX != -* ]]; then _files; return; fi
  case $cmd in
${flagCases(data, (flags) => `compadd -- ${flags}`)}
  esac
}
if (( $+functions[compdef] )); then compdef _airlock airlock; fi
`;
}

/** The command, given every command (main.ts's list) to complete. */
export const completionCommand = (commands: readonly CommandEntry[]): Command => ({
  help: HELP,
  async run(args: string[], io: CliIo): Promise<number> {
    const { flags, rest, help } = parseFlags(args, { config: { value: true } }, { command: 'completion' });
    if (help) {
      io.stdout.write(HELP);
      return 0;
    }
    const [shell, ...more] = rest;
    if ((shell !== 'bash' && shell !== 'zsh') || more.length > 0) {
      throw new AirlockError('AIRLOCK_ERR_USAGE', `airlock completion: give one shell, bash or zsh`, {
        hint: 'airlock completion bash > /etc/bash_completion.d/airlock',
      });
    }
    const data = await completionData(commands, stringFlag(flags, 'config'), io.env);
    io.stdout.write(shell === 'bash' ? bashScript(data) : zshScript(data));
    return 0;
  },
});
