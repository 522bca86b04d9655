import { isAirlockError } from '../errors.js';

/**
 * The exit status of airlock's own failures (usage, config, setup: the guest never ran), as
 * Docker, Podman and env(1) give: clear of the small numbers a guest command uses for its own,
 * which pass through unchanged. 126 and 127 (cannot run, not found) come from the guest
 * launcher (src/sandbox/guest-launcher.ts).
 */
export const AIRLOCK_FAILURE = 125;

/**
 * The one place a CLI error becomes text: `airlock: message [CODE]` plus the hint.
 * Unexpected errors print their message only (stack with AIRLOCK_DEBUG=1). Messages are
 * built to never contain a secret value.
 */
export function renderCliError(error: unknown, debug = false): string {
  if (isAirlockError(error)) {
    const hint = error.hint ? `\n  hint: ${error.hint}` : '';
    return `airlock: ${error.message} [${error.code}]${hint}\n`;
  }
  const message = error instanceof Error ? error.message : String(error);
  const stack = debug && error instanceof Error && error.stack ? `\n${error.stack}` : '';
  return `airlock: unexpected error: ${message}${stack}\n`;
}

/**
 * The same error as one JSON line, for commands run with `--json` (printed on stderr, so
 * stdout holds only data): `{"error":{"code":…,"message":…,"hint":…}}`; an unexpected error
 * has the code `null`, a missing hint is `null`.
 */
export function renderJsonError(error: unknown): string {
  const body = isAirlockError(error)
    ? { code: error.code, message: error.message, hint: error.hint ?? null }
    : { code: null, message: error instanceof Error ? error.message : String(error), hint: null };
  return `${JSON.stringify({ error: body })}\n`;
}
