import { BUILTIN_SERVICES } from '../catalogue/builtin.js';
import type { RequestFilter } from '../store/audit-records.js';

/** What the audit log knows, for telling a typo from a filter that merely selects nothing. */
export interface KnownValues {
  knowsSandbox(idOrName: string): boolean;
  knowsService(name: string): boolean;
}

/**
 * One line per filter that can match nothing: a sandbox no record or row knows, a service
 * that is neither in the built-in catalogue nor in any row (custom services count once
 * they have rows), a window whose start is not before its end. Such a filter is allowed —
 * it just gives 0 rows — so these are warnings, not errors.
 */
export function filterWarnings(
  filter: RequestFilter,
  known: KnownValues,
  /** the --since/--until values as given, to name them as the user wrote them */
  given: { since?: string; until?: string } = {},
): string[] {
  const warnings: string[] = [];
  if (filter.sandbox !== undefined && !known.knowsSandbox(filter.sandbox)) {
    warnings.push(`--sandbox ${filter.sandbox}: no sandbox has that id or name in this audit log`);
  }
  if (
    filter.service !== undefined &&
    !BUILTIN_SERVICES.some((s) => s.name === filter.service) &&
    !known.knowsService(filter.service)
  ) {
    const names = BUILTIN_SERVICES.map((s) => s.name).join(', ');
    warnings.push(`--service ${filter.service}: not a catalogue service (${names}) and in no row`);
  }
  if (filter.since !== undefined && filter.until !== undefined && filter.since >= filter.until) {
    const shown = (raw: string | undefined, iso: string) => (raw === undefined ? iso : `${raw} (${iso})`);
    warnings.push(
      `--since ${shown(given.since, filter.since)} is not before --until ${shown(given.until, filter.until)}: ` +
        'the window is empty; --since is its start, --until its end',
    );
  }
  return warnings;
}
