import { printable } from './table.js';

/**
 * RFC 4180 CSV: a header row, CRLF line ends, a field quoted when it holds a comma, quote, CR
 * or LF (quotes doubled). null is an empty field. Text from guests is made safe twice: control
 * characters are escaped as in the table (`\x1b`), and a text field a spreadsheet would take
 * for a formula (starting with `=`, `+`, `-`, `@`) gets a leading `'`.
 */
export function renderCsv(columns: readonly string[], rows: readonly (readonly unknown[])[]): string {
  return [columns, ...rows].map((r) => `${r.map(csvField).join(',')}\r\n`).join('');
}

function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  let text = printable(typeof value === 'string' ? value : JSON.stringify(value));
  if (/^[=+\-@]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
