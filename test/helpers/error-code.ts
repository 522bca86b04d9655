/** The error code `fn` throws (`AIRLOCK_ERR_…`), or `accepted` when it returns. */
export function errorCodeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return 'accepted';
  } catch (error) {
    return (error as { code?: string }).code;
  }
}
