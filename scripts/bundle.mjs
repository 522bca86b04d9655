// Bundles the `airlock` executable into dist/bin/: a small entry (argument parsing, help,
// errors), the audit writer's worker, and one bundle per command, which the entry loads only
// when that command runs (src/cli/load-command-bundled.ts) and compiles with
// V8's code cache of earlier runs (src/cli/code-cache.ts), and a bundle per package the commands
// import only on demand (lazyParts). Node then reads a few large files
// instead of ~250 small modules, and compiles them once per version instead of every start.
// The library (dist/index.js, from tsc) stays unbundled. better-sqlite3's JavaScript is bundled
// too (Node's loader spent ~8 ms of every start resolving its dozen files); its compiled addon is
// loaded from where its install puts it (src/store/sqlite.ts).
import { build } from 'esbuild';
import { chmodSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';

const outdir = 'dist/bin';
rmSync(outdir, { recursive: true, force: true }); // files of an earlier build must not ship
const common = {
  outdir,
  bundle: true,
  platform: 'node',
  target: 'node20.18',
  logLevel: 'warning',
  // no comments or indentation: a command's start-up reads, hashes and decodes its whole bundle
  // (~30% less to do); names are kept, so a stack trace still names its functions
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
};

// the commands main.ts loads by name (src/cli/load-command.ts)
const commands = readdirSync('src/cli')
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.slice(0, -3))
  .filter((name) => new RegExp(`loadCommand\\('${name}'\\)`).test(mainSource()));
if (commands.length === 0) throw new Error('no command found in src/cli/main.ts');

/** In the bundle, load-command.ts is replaced by its bundled counterpart. */
const bundledLoader = {
  name: 'bundled-command-loader',
  setup(b) {
    b.onResolve({ filter: /\/load-command\.js$/ }, (args) => ({
      path: new URL('../src/cli/load-command-bundled.ts', import.meta.url).pathname,
      ...(args.kind === 'import-statement' ? {} : { external: true }),
    }));
  },
};

/**
 * Packages the commands import only on demand (`await import(...)`): TLS interception's
 * certificates (and the Reflect polyfill they read), WebSockets, and undici's Agent (its pools,
 * HTTP/1 and HTTP/2 clients and parser), together two thirds of what run.cjs would hold. Each is
 * a bundle of its own in dist/bin/, loaded at that import with the code cache too, so a
 * command's start reads, hashes and deserialises only what it may need at once.
 */
const lazyParts = {
  '@peculiar/x509': 'lazy-x509',
  'reflect-metadata': 'lazy-reflect-metadata',
  ws: 'lazy-ws',
  'undici/lib/dispatcher/agent.js': 'lazy-undici',
};
const lazyImport = new RegExp(
  `^(${Object.keys(lazyParts)
    .map((p) => p.replace(/[./]/g, '\\$&'))
    .join('|')})$`,
);
const codeCache = new URL('../src/cli/code-cache.ts', import.meta.url).pathname;

/**
 * undici's modules that a command bundle holds itself (the connector, errors and util that
 * src/proxy/core/undici-parts.ts imports, and what they import) must stay one copy when the
 * Agent comes: undici marks its objects with symbols of its own module and checks its own error
 * classes. So the command's loader of lazy-undici publishes a getter for each of them
 * (UNDICI_SHARED), and lazy-undici takes those in place of its own copies. `sharedUndici` is
 * filled by a first build of the commands: the undici modules any of them holds (from esbuild's
 * metafile), so each command publishes, and holds, all that lazy-undici takes.
 */
const UNDICI_SHARED = "Symbol.for('airlock.undici-modules')";
const isUndici = (path) => /(^|\/)node_modules\/undici\/.*\.js$/.test(path);
const sharedUndici = new Set();
const relativePath = (path) => relative(process.cwd(), path);

const lazyLoader = {
  name: 'lazy-parts',
  setup(b) {
    b.onResolve({ filter: lazyImport }, (args) =>
      args.kind === 'dynamic-import' ? { path: args.path, namespace: 'lazy-part' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'lazy-part' }, (args) => ({
      contents: [
        ...(lazyParts[args.path] === 'lazy-undici' ? [publishUndici()] : []),
        `const { codeCacheDir, loadCommonJs } = require(${JSON.stringify(codeCache)});`,
        `const file = require('node:path').join(__dirname, '${lazyParts[args.path]}.cjs');`,
        'module.exports = loadCommonJs(file, codeCacheDir(process.env));',
      ].join('\n'),
      resolveDir: process.cwd(),
    }));
  },
};

/** The command's side: a getter per undici module it holds (each the bundle's one copy). */
function publishUndici() {
  const getters = [...sharedUndici].map((path) => `[${JSON.stringify(path)}, () => require('./${path}')]`);
  return `globalThis[${UNDICI_SHARED}] = new Map([${getters.join(', ')}]);`;
}

/** lazy-undici's side: a module the command holds is taken from it, never bundled again. */
const sharedFromCommand = {
  name: 'undici-shared',
  setup(b) {
    b.onLoad({ filter: /node_modules\/undici\/.*\.js$/ }, (args) => {
      const path = relativePath(args.path);
      if (!sharedUndici.has(path)) return undefined;
      return {
        contents: [
          `const get = globalThis[${UNDICI_SHARED}]?.get(${JSON.stringify(path)});`,
          `if (!get) throw new Error('lazy-undici: the command did not publish ${path}');`,
          'module.exports = get();',
        ].join('\n'),
      };
    });
  },
};

// Everything is CommonJS, which Node loads faster than ES modules (~13 ms of every start for
// the entry alone). dist/bin/package.json says so, so the entry and the worker keep their names.
const commonJs = {
  format: 'cjs',
  // the sources find their data files (netns/, sql/, package.json) and the worker from their own URL
  define: { 'import.meta.url': '__airlockUrl' },
  // strict, as the ES modules they were: a directive after the banner would not count
  banner: { js: "'use strict';\nconst __airlockUrl = require('node:url').pathToFileURL(__filename).href;" },
  // import.meta.resolve is only used when running from src/ under tsx (threaded-writer.ts)
  logOverride: { 'empty-import-meta': 'silent' },
};
await build({
  ...common,
  ...commonJs,
  entryPoints: { airlock: 'src/cli/bin.ts', 'audit-worker': 'src/audit/audit-worker.ts' },
  plugins: [bundledLoader],
});
const commandBuild = {
  ...common,
  ...commonJs,
  entryPoints: Object.fromEntries(commands.map((name) => [name, `src/cli/${name}.ts`])),
  outExtension: { '.js': '.cjs' },
  plugins: [lazyLoader],
};
// first the undici modules the commands hold, then the commands publishing them
const { metafile } = await build({ ...commandBuild, write: false, metafile: true });
for (const output of Object.values(metafile.outputs)) {
  for (const path of Object.keys(output.inputs)) if (isUndici(path)) sharedUndici.add(path);
}
await build(commandBuild);
await build({
  ...common,
  ...commonJs,
  entryPoints: Object.fromEntries(Object.entries(lazyParts).map(([pkg, name]) => [name, pkg])),
  outExtension: { '.js': '.cjs' },
  plugins: [sharedFromCommand],
});
writeFileSync(`${outdir}/package.json`, '{ "type": "commonjs" }\n');
chmodSync(`${outdir}/airlock.js`, 0o755);

function mainSource() {
  return readFileSync('src/cli/main.ts', 'utf8');
}
