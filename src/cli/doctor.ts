import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openAuditQuery } from '../audit/query.js';
import { nftQuery } from '../net/nft.js';
import { findProgram, runCommand, type CommandResult } from '../net/run.js';
import { installCommand, REQUIRED_TOOLS, type Tool } from '../sandbox/required-tools.js';
import { airlockHome } from '../config/env-vars.js';
import { configFileProblems } from '../config/load-config.js';
import { detectCgroupFs } from '../sandbox/cgroup.js';
import { runSelftest } from '../sandbox/selftest.js';
import type { CliIo, Command } from './command.js';
import { parseFlags, stringFlag } from './flags.js';
import { AIRLOCK_FAILURE } from './render-error.js';

const HELP = `Usage: airlock doctor [--selftest] [--json]
       airlock doctor --config FILE [--json]

Checks that this machine can run airlock sandboxes: root / CAP_NET_ADMIN, nf_tables in
the kernel, the programs airlock drives (nft, ip, bwrap, setpriv, sysctl), cgroups,
network namespaces, the Node version, and that the audit log in AIRLOCK_HOME has lost no
rows (it names rows pruned to stay under audit.maxBytes). Each failure is printed with its
fix.

With --selftest it then attacks a real sandbox on this host, as a guest would, and prints
each attempt with ok or FAIL: direct TCP (v4, v6, other host ports), DNS, a world-writable
unix socket and a world-readable file in a home it creates on the host, the guest's /tmp
and /dev/shm, the guest's view of /proc and its privileges, the kernel keyring, and the
memory and process limits. Run it after installing airlock on a new host (needs root).

With --config it checks a config file instead, without root, and prints every problem at
once, one \`path: message\` line each.

Flags:
  --selftest     also run the escape attempts in a real sandbox
  --config FILE  validate this config file (and nothing else)
  --json         print the checks (or the config's problems) as one JSON object
  -h, --help     show this help

Exit status: 0 when everything is ok (the config is valid), else 125.
`;

const CAP_NET_ADMIN = 12n;
const CAP_SYS_ADMIN = 21n;

/** One line of the doctor's report. */
export interface Check {
  name: string;
  ok: boolean;
  detail: string;
  /** how to fix it (omitted when ok) */
  fix?: string;
}

function effectiveCaps(): bigint {
  const status = readFileSync('/proc/self/status', 'utf8');
  const hex = /^CapEff:\s*([0-9a-f]+)$/m.exec(status)?.[1] ?? '0';
  return BigInt(`0x${hex}`);
}

/**
 * The fix for a failed `nft list tables`: only a kernel without nf_tables gets modprobe; an
 * nft that could not be started, or failed otherwise, is named with its path.
 */
function nftFix(path: string, result: CommandResult): string {
  if (result.exitCode === null)
    return `${path} could not be started; reinstall it: ${installCommand(['nft'])}`;
  if (/not supported|protocol not available/i.test(result.stderr)) {
    return 'load the module: sudo modprobe nf_tables (kernel ≥ 5.10 with CONFIG_NF_TABLES)';
  }
  return `${path} failed (exit ${result.exitCode}); check it is nftables' nft: ${installCommand(['nft'])}`;
}

/** A check; the fix is shown only when it failed. */
function check(name: string, ok: boolean, detail: string, fix: string): Check {
  return ok ? { name, ok, detail } : { name, ok, detail, fix };
}

/** Sandboxes are built through libnftables in airlock's own process (koffi's FFI), not through `nft`. */
function libnftablesCheck(): Check {
  let detail: string;
  try {
    if (nftQuery(['list', 'tables']) !== null) {
      return check('libnftables', true, 'loaded in-process; the kernel accepts its commands', '');
    }
    detail = 'the kernel refused `list tables`';
  } catch (error) {
    detail = String((error as Error).message);
  }
  return check('libnftables', false, detail, installCommand(['nft']));
}

export async function runChecks(env: NodeJS.ProcessEnv): Promise<Check[]> {
  const caps = effectiveCaps();
  const hasCaps = ((caps >> CAP_NET_ADMIN) & 1n) === 1n && ((caps >> CAP_SYS_ADMIN) & 1n) === 1n;
  const checks = [
    check(
      'privileges',
      hasCaps,
      hasCaps ? 'CAP_NET_ADMIN and CAP_SYS_ADMIN present' : 'missing CAP_NET_ADMIN/CAP_SYS_ADMIN (not root)',
      'run airlock with sudo, or inside the Vagrant VM (vagrant up && vagrant ssh)',
    ),
  ];
  const tools = Object.keys(REQUIRED_TOOLS) as Tool[];
  for (const tool of tools) {
    const path = findProgram(tool, env);
    checks.push(
      check(
        tool,
        path !== null,
        path ?? 'not found',
        `${installCommand([tool])}   (all at once: ${installCommand(tools)})`,
      ),
    );
  }
  const nftPath = findProgram('nft', env);
  if (hasCaps && nftPath) {
    // the nft the check above found, so the report and what ran cannot disagree
    const nft = await runCommand(nftPath, ['list', 'tables']);
    checks.push(
      check(
        'nf_tables',
        nft.ok,
        nft.ok ? 'kernel accepts nftables commands' : nft.stderr,
        nftFix(nftPath, nft),
      ),
      libnftablesCheck(),
    );
    let cgroups: string;
    try {
      const fs = detectCgroupFs();
      cgroups = fs.version === 2 ? `v2 at ${fs.root}` : `v1: memory at ${fs.memory}, pids at ${fs.pids}`;
    } catch (error) {
      cgroups = '';
      checks.push(
        check(
          'cgroups',
          false,
          String((error as Error).message),
          'boot with cgroup v2, or v1 memory and pids hierarchies',
        ),
      );
    }
    if (cgroups) checks.push(check('cgroups', true, cgroups, ''));
    const ns = await runCommand('ip', ['netns', 'list']);
    checks.push(
      check(
        'netns',
        ns.ok,
        ns.ok ? 'network namespaces available' : ns.stderr,
        'a kernel with CONFIG_NET_NS; inside a container, run airlock on the host or a VM',
      ),
    );
  }
  const [major = 0, minor = 0, patch = 0] = process.versions.node.split('.').map(Number);
  const nodeOk = major > 20 || (major === 20 && (minor > 18 || (minor === 18 && patch >= 1)));
  checks.push(
    check(
      'node',
      nodeOk,
      `v${process.versions.node}`,
      'install Node.js 20.18.1 or newer (22 and 24 are supported)',
    ),
  );
  checks.push(check('state', true, `AIRLOCK_HOME=${airlockHome(env)}`, ''));
  checks.push(auditCheck(airlockHome(env)));
  return checks;
}

/** The audit log's gaps: rows lost to write failures fail the check; pruned rows are reported. */
function auditCheck(home: string): Check {
  if (!existsSync(join(home, 'airlock.db'))) return check('audit', true, 'no audit log yet', '');
  let q;
  try {
    q = openAuditQuery({ home });
  } catch (err) {
    return check('audit', false, `cannot read the audit log: ${String(err)}`, 'run airlock doctor as root');
  }
  try {
    const { lost, pruned, lastLost } = q.gaps();
    const size = `${(q.diskBytes() / 1024 / 1024).toFixed(1)} MiB`;
    const prunedNote = pruned > 0 ? `; ${pruned} oldest rows pruned to stay under audit.maxBytes` : '';
    if (lost === 0) return check('audit', true, `${size}, no rows lost${prunedNote}`, '');
    return check(
      'audit',
      false,
      `${lost} audit rows lost (last at ${lastLost?.at ?? '?'}: ${lastLost?.reason ?? '?'})${prunedNote}`,
      'free disk space under AIRLOCK_HOME or lower audit.maxBytes; find a process holding airlock.db locked (docs/audit.md)',
    );
  } finally {
    q.close();
  }
}

export const doctorCommand: Command = {
  help: HELP,
  async run(args: string[], io: CliIo): Promise<number> {
    const { flags, help } = parseFlags(
      args,
      { json: {}, selftest: {}, config: { value: true } },
      { command: 'doctor' },
    );
    if (help) {
      io.stdout.write(HELP);
      return 0;
    }
    const config = stringFlag(flags, 'config');
    if (config !== undefined) return checkConfig(config, flags.json === true, io);
    const checks = await runChecks(io.env);
    if (flags.selftest && checks.every((c) => c.ok)) {
      const attempts = await runSelftest({ home: airlockHome(io.env), invokingEnv: io.env });
      checks.push(...attempts.map((a) => ({ ...a, name: `selftest: ${a.name}` })));
    }
    const ok = checks.every((c) => c.ok);
    if (flags.json) {
      io.stdout.write(`${JSON.stringify({ ok, checks })}\n`);
    } else {
      const width = Math.max(...checks.map((c) => c.name.length));
      for (const c of checks) {
        io.stdout.write(`${c.ok ? 'ok  ' : 'FAIL'}  ${c.name.padEnd(width)} ${c.detail}\n`);
        if (c.fix) io.stdout.write(`      fix: ${c.fix}\n`);
      }
      io.stdout.write(ok ? 'airlock can run sandboxes here\n' : 'airlock cannot run sandboxes here yet\n');
    }
    return ok ? 0 : AIRLOCK_FAILURE;
  },
};

/** `doctor --config FILE`: every problem of the file, or that it is valid. */
function checkConfig(file: string, json: boolean, io: CliIo): number {
  const problems = configFileProblems(file);
  if (json) io.stdout.write(`${JSON.stringify({ ok: problems.length === 0, config: file, problems })}\n`);
  else if (problems.length === 0) io.stdout.write(`ok  config ${file} is valid\n`);
  else {
    io.stdout.write(`FAIL  config ${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n`);
    for (const line of problems) io.stdout.write(`      ${line}\n`);
    io.stdout.write('      fix: correct each line; docs/config.md describes every field\n');
  }
  return problems.length === 0 ? 0 : AIRLOCK_FAILURE;
}
