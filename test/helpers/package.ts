import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** this checkout */
export const REPO = fileURLToPath(new URL('../..', import.meta.url));

let packed: Promise<string> | undefined;

/**
 * `npm pack` of this checkout (its `prepack` builds `dist` first): the package as the registry
 * would hold it. Made once per test process, in a temp dir removed when the process exits.
 * Returns the tarball's path.
 */
export function packTarball(): Promise<string> {
  packed ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'airlock-pack-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dir], {
      cwd: REPO,
      maxBuffer: 16 * 1024 * 1024,
    });
    return join(dir, (JSON.parse(stdout) as { filename: string }[])[0]!.filename);
  })();
  return packed;
}

/**
 * A fresh project with the packed package in node_modules (what `npm install airlock` puts
 * there: the `files` of package.json, nothing else), its dependencies taken from this checkout
 * so the test needs no registry.
 */
export async function freshProject(t: TestContext): Promise<string> {
  const tarball = await packTarball();
  const dir = mkdtempSync(join(tmpdir(), 'airlock-lib-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const pkg = join(dir, 'node_modules', 'airlock');
  mkdirSync(pkg, { recursive: true });
  await run('tar', ['-xzf', tarball, '-C', pkg, '--strip-components=1']);
  symlinkSync(join(REPO, 'node_modules'), join(pkg, 'node_modules'));
  return dir;
}

/** what the stand-in registry serves of one package name */
interface Served {
  /** version → its folder in this checkout */
  versions: Map<string, string>;
  /** the hoisted version (top-level node_modules), the `latest` dist-tag */
  latest?: string;
}

/** Every package folder of this checkout's lockfile, by name and version. */
function lockfilePackages(): Map<string, Served> {
  const lock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { version?: string; link?: boolean }>;
  };
  const served = new Map<string, Served>();
  for (const [key, entry] of Object.entries(lock.packages)) {
    const at = key.lastIndexOf('node_modules/');
    const dir = join(REPO, key);
    if (at < 0 || entry.link || !entry.version || !existsSync(join(dir, 'package.json'))) continue;
    const name = key.slice(at + 'node_modules/'.length);
    const one = served.get(name) ?? { versions: new Map<string, string>() };
    one.versions.set(entry.version, dir);
    if (at === 0) one.latest = entry.version;
    served.set(name, one);
  }
  return served;
}

/**
 * A stand-in for the npm registry on loopback, serving the dependencies installed in this
 * checkout (packuments built from their package.json, tarballs made from their folders on
 * request), so `npm install -g` of the tarball runs as it would against the registry with
 * nothing leaving the machine. Native modules come with the binaries built here: install with
 * `--ignore-scripts` (a real install runs better-sqlite3's prebuild download instead).
 * Returns the registry URL; the server closes after the test.
 */
export async function localRegistry(t: TestContext): Promise<string> {
  const served = lockfilePackages();
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).slice(1);
    const tarball = /^-\/tarball\/(.+)\/([^/]+)\.tgz$/.exec(path);
    if (tarball) {
      const dir = served.get(tarball[1]!)?.versions.get(tarball[2]!);
      if (!dir) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const tar = spawn(
        'tar',
        [
          '-czf',
          '-',
          '-C',
          dir,
          '--hard-dereference',
          '--exclude=./node_modules',
          '--transform=s,^\\.,package,',
          '.',
        ],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      tar.stdout.pipe(res);
      return;
    }
    const one = served.get(path);
    if (!one) return void res.writeHead(404, { 'content-type': 'application/json' }).end('{}');
    const base = `http://${req.headers.host}/-/tarball/${encodeURIComponent(path)}`;
    const manifests = Object.fromEntries(
      [...one.versions].map(([version, dir]) => [
        version,
        {
          ...(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as object),
          name: path,
          version,
          dist: { tarball: `${base}/${version}.tgz` },
        },
      ]),
    );
    const latest = one.latest ?? [...one.versions.keys()].at(-1)!;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ name: path, 'dist-tags': { latest }, versions: manifests }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}
