import type { BootedAuditThread } from '../audit/threaded-writer.js';

/** Where a command reads and writes; tests pass their own. */
export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** where `exec -i` reads (omitted = process.stdin) */
  stdin?: NodeJS.ReadableStream;
  env: NodeJS.ProcessEnv;
  /** an audit thread the executable booted while `run` loaded (bin.ts), for run's engine to adopt */
  auditThread?: BootedAuditThread;
}

/** One `airlock <name>` command, in a file of its own under src/cli/ (its name and summary are in main.ts). */
export interface Command {
  /** the whole `airlock <name> --help` text */
  help: string;
  /** runs the command; resolves to the process exit status (never calls process.exit) */
  run(args: string[], io: CliIo): Promise<number>;
}

/** One `airlock <name>` command as main.ts lists it: what `--help` shows, and how to load it. */
export interface CommandEntry {
  name: string;
  summary: string;
  /** takes `--json`, so its errors are JSON too when it is given */
  json?: boolean;
  load: () => Promise<Command>;
}
