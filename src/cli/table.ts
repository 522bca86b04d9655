/** A plain-text table for people: a header row, columns padded, numbers right-aligned. */
export function renderTable(columns: string[], rows: unknown[][]): string {
  const cells = rows.map((r) => r.map(cellText));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => (r[i] ?? '').length)));
  const numeric = columns.map(
    (_, i) =>
      rows.some((r) => typeof r[i] === 'number') &&
      rows.every((r) => r[i] == null || typeof r[i] === 'number'),
  );
  const line = (values: string[], header: boolean) =>
    values
      .map((v, i) => (!header && numeric[i] ? v.padStart(widths[i]!) : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(columns, true), ...cells.map((r) => line(r, false))].map((l) => `${l}\n`).join('');
}

function cellText(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (typeof value === 'string') return printable(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  return JSON.stringify(value);
}

/**
 * Control characters shown as `\xNN`: paths, queries and reasons come from the guest, and an
 * escape sequence must not reach the terminal of the person reading the audit log.
 */
export function printable(text: string): string {
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    out += code < 0x20 || (code >= 0x7f && code <= 0x9f) ? `\\x${code.toString(16).padStart(2, '0')}` : ch;
  }
  return out;
}
