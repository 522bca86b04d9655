import { isAirlockError } from '../errors.js';

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
