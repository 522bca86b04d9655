import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));

/**
 * DESIGN.md: imports run one way, cli/library → daemon → engine → sandbox → proxy/config →
 * policy/audit → catalogue/store/net → errors/did-you-mean.
 */
const LAYER: Record<string, number> = {
  cli: 0,
  'index.ts': 0,
  daemon: 0.25,
  engine: 0.5,
  sandbox: 1,
  proxy: 2,
  config: 2,
  budget: 2.5,
  policy: 3,
  audit: 3,
  catalogue: 4,
  store: 4,
  net: 4,
  'errors.ts': 5,
  'did-you-mean.ts': 5,
};
/** packages only one room may use */
const PACKAGE_OWNERS: Record<string, string[]> = {
  'better-sqlite3': ['store'],
  'node:child_process': ['net'],
  koffi: ['net'],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [
    ...text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/gm),
    ...text.matchAll(/import\(['"]([^'"]+)['"]\)/g),
    // a built-in module loaded at its first use
    ...text.matchAll(/getBuiltinModule\(['"]([^'"]+)['"]\)/g),
  ].map((m) => m[1]!);
}

const room = (file: string) => relative(SRC, file).split('/')[0]!;
const files = sourceFiles(SRC);
const graph = new Map(
  files.map((f) => [
    f,
    imports(f).map((spec) =>
      spec.startsWith('.') ? resolve(dirname(f), spec.replace(/\.js$/, '.ts')) : spec,
    ),
  ]),
);

test('every import runs down the layers (or stays in its room)', () => {
  assert.ok(files.length > 10, 'control: the source tree was found');
  const violations: string[] = [];
  for (const [file, deps] of graph) {
    const from = room(file);
    for (const dep of deps) {
      if (!dep.startsWith('/')) continue;
      const to = room(dep);
      if (to === from) continue;
      if (LAYER[from] === undefined || LAYER[to] === undefined)
        violations.push(`${relative(SRC, file)}: unknown room`);
      else if (LAYER[to] <= LAYER[from])
        violations.push(`${relative(SRC, file)} imports ${relative(SRC, dep)}`);
    }
  }
  assert.deepEqual(violations, []);
});

test('packages stay in the rooms that own them', () => {
  const violations: string[] = [];
  for (const [file, deps] of graph) {
    for (const dep of deps) {
      const owners = PACKAGE_OWNERS[dep];
      if (owners && !owners.includes(room(file))) violations.push(`${relative(SRC, file)} imports ${dep}`);
    }
  }
  assert.deepEqual(violations, []);
});

test('no import cycles between source files', () => {
  const state = new Map<string, 'visiting' | 'done'>();
  const cycles: string[] = [];
  const visit = (file: string, path: string[]) => {
    if (state.get(file) === 'done') return;
    if (state.get(file) === 'visiting') {
      cycles.push([...path.slice(path.indexOf(file)), file].map((f) => relative(SRC, f)).join(' → '));
      return;
    }
    state.set(file, 'visiting');
    for (const dep of graph.get(file) ?? []) if (graph.has(dep)) visit(dep, [...path, file]);
    state.set(file, 'done');
  };
  for (const file of graph.keys()) visit(file, []);
  assert.deepEqual(cycles, []);
});
