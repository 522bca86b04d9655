import type { CliIo } from './command.js';
import { renderCliError } from './render-error.js';

/**
 * Runs `body`, then `close` whatever happened. When both fail, the first failure is the one
 * reported and the cleanup's is a warning: a failed teardown must not hide why the run failed.
 */
export async function closeAfter<T>(
  body: () => Promise<T>,
  close: () => Promise<void>,
  io: CliIo,
): Promise<T> {
  let result: T;
  try {
    result = await body();
  } catch (error) {
    await close().catch((cleanup: unknown) =>
      io.stderr.write(renderCliError(cleanup).replace(/^airlock: /, 'airlock: warning: while cleaning up: ')),
    );
    throw error;
  }
  await close();
  return result;
}
