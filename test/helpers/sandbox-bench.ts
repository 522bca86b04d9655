import { chmodSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Sandbox, type SandboxOptions } from '../../src/sandbox/sandbox.js';

/** Privileged tests run as root (CI does); elsewhere they are skipped with this reason. */
export const needsRoot: false | string = process.geteuid?.() === 0 ? false : 'needs root (CAP_NET_ADMIN)';

/** A fresh state directory removed after the test. */
export function tempHome(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

let share: string | undefined;

/**
 * A world-readable folder of this test process that every test sandbox shows read-only at
 * the same path (guests see nothing else of the host's /tmp). Removed when the process exits.
 */
export function guestShare(): string {
  if (share === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'airlock-guest-share-'));
    chmodSync(dir, 0o755);
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    share = dir;
  }
  return share;
}

/** `airlock run` flags that show the guest share (see guestShare). */
export function shareFlags(): string[] {
  return ['--mount', `${guestShare()}:${guestShare()}:ro`];
}

/**
 * `airlock run` argv for a guest that sees the guest share and holds the OpenAI credential:
 * `run <share> --cred OPENAI_API_KEY FLAGS -- COMMAND`.
 */
export function openaiRunArgs(flags: readonly string[], command: readonly string[]): string[] {
  return ['run', ...shareFlags(), '--cred', 'OPENAI_API_KEY', ...flags, '--', ...command];
}

/** A new world-readable folder inside the guest share, removed after the test. */
export function shareDir(t: TestContext, prefix: string): string {
  const dir = mkdtempSync(join(guestShare(), prefix));
  chmodSync(dir, 0o755);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A sandbox closed after the test, also when it fails; it shows the guest share. */
export async function testSandbox(t: TestContext, options: SandboxOptions = {}): Promise<Sandbox> {
  const mount = { source: guestShare(), target: guestShare(), readOnly: true };
  const sb = await Sandbox.create({
    home: options.state ? undefined : tempHome(t),
    ...options,
    mounts: [mount, ...(options.mounts ?? [])],
  });
  t.after(() => sb.close());
  return sb;
}

/** Copies a fixture into the guest share so an unprivileged guest can run it. */
export function guestFixture(t: TestContext, name: string): string {
  const dir = shareDir(t, 'fixture-');
  const target = join(dir, basename(name));
  copyFileSync(fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url)), target);
  chmodSync(target, 0o644);
  return target;
}

export type ProbeResult = { ok: boolean; error: string | null; ms?: number };
export type ScanResult = { open: number[]; refused: number; timedOut: number; other: number };

/** Runs test/fixtures/guest-probe.mjs in the sandbox and returns its results. */
export async function probe<T = ProbeResult>(t: TestContext, sb: Sandbox, probes: object[]): Promise<T[]> {
  const script = guestFixture(t, 'guest-probe.mjs');
  const r = await sb.exec(['node', script, JSON.stringify(probes)]);
  if (r.status !== 0) throw new Error(`guest probe failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as T[];
}

/** A TCP listener on the host (the positive control), closed after the test. */
export async function hostListener(t: TestContext, host: string, port: number): Promise<Server> {
  const server = createServer((s) => {
    s.on('error', () => undefined); // probes hang up at once
    s.end('ok\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, resolve);
  });
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return server;
}
