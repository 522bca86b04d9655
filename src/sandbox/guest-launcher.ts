/**
 * What runs the guest's command once it is the guest user: a few lines of `/bin/sh` (the
 * system's, read-only in every view) that look the command up in the guest's own view and
 * PATH (a program file, never a shell builtin), say in airlock's words why it cannot start, then `exec` it, so the command replaces
 * the shell and keeps its argv. Exit statuses as shells give them: 127 not found, 126 found
 * but not runnable. A non-interactive `sh` with a script reads no startup file.
 */
const LAUNCHER = [
  'c=$1; p=',
  'case $c in */*) p=$c ;; *) set -f; IFS=:; for d in $PATH; do if [ -f "$d/$c" ] && [ -x "$d/$c" ]; then p=$d/$c; break; fi; done; unset IFS; set +f ;; esac',
  `if [ -z "$p" ] || [ ! -e "$p" ]; then echo "airlock: $c: command not found" >&2; exit 127; fi`,
  `if [ -d "$p" ]; then echo "airlock: $c: cannot run: is a directory" >&2; exit 126; fi`,
  `if [ ! -x "$p" ]; then echo "airlock: $c: cannot run: permission denied" >&2; exit 126; fi`,
  'exec "$@"',
].join('; '); // one line with no backslash: PID 1's command line (which the guest may read, and echo) stays one line

/** The argument vector that runs `command` through the launcher (`airlock` is the script's $0). */
export function launcherArgv(command: readonly string[]): string[] {
  return ['/bin/sh', '-c', LAUNCHER, 'airlock', ...command];
}
