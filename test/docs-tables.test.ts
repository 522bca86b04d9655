import assert from 'node:assert/strict';
import { test } from 'node:test';
import { docFiles, prose, readDoc } from './helpers/docs.js';

/** A table's cells: split on unescaped pipes, outer pipes dropped, trimmed. */
function cells(line: string): string[] {
  return line
    .trim()
    .replace(/^\||\|$/g, '')
    .split(/(?<!\\)\|/)
    .map((c) => c.trim());
}

const isSeparator = (line: string) => /^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$/.test(line);

interface Table {
  file: string;
  line: number;
  header: string[];
  body: { line: number; text: string }[];
}

/** Every Markdown table outside code blocks: a header line followed by a separator line. */
function tables(file: string): Table[] {
  const lines = prose(readDoc(file)).split('\n');
  const found: Table[] = [];
  for (let i = 0; i + 1 < lines.length; i++) {
    if (!lines[i]!.trim().startsWith('|') || !isSeparator(lines[i + 1]!)) continue;
    const table: Table = { file, line: i + 1, header: cells(lines[i]!), body: [] };
    let j = i + 2;
    for (; j < lines.length && lines[j]!.trim().startsWith('|'); j++) {
      table.body.push({ line: j + 1, text: lines[j]! });
    }
    found.push(table);
    i = j;
  }
  return found;
}

test('no Markdown table repeats its header or separator inside its body, and rows have its columns', () => {
  const problems: string[] = [];
  let count = 0;
  for (const file of docFiles()) {
    for (const table of tables(file)) {
      count++;
      for (const row of table.body) {
        const where = `${file}:${row.line}`;
        if (isSeparator(row.text)) problems.push(`${where}: a separator row inside the table`);
        else if (cells(row.text).join('|') === table.header.join('|'))
          problems.push(`${where}: the header row repeated`);
        else if (cells(row.text).length !== table.header.length)
          problems.push(`${where}: ${cells(row.text).length} cells, the header has ${table.header.length}`);
      }
    }
  }
  assert.ok(count >= 10, `control: tables found (${count})`);
  assert.deepEqual(problems, []);
});
