import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The repository root (ends with /). */
export const REPO = fileURLToPath(new URL('../../', import.meta.url));

/** README.md and every docs/*.md, as repository-relative paths. */
export function docFiles(): string[] {
  const docs = readdirSync(`${REPO}docs`)
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`);
  return ['README.md', ...docs];
}

export function readDoc(path: string): string {
  return readFileSync(`${REPO}${path}`, 'utf8');
}

/** The text outside fenced code blocks, with each fenced line blanked (line numbers stay). */
export function prose(text: string): string {
  let fenced = false;
  return text
    .split('\n')
    .map((line) => {
      if (/^\s*```/.test(line)) {
        fenced = !fenced;
        return '';
      }
      return fenced ? '' : line;
    })
    .join('\n');
}
