#!/usr/bin/env node
// The `airlock` executable: runs main and sets the exit status (main never calls process.exit).
import { bootAuditThread } from '../audit/threaded-writer.js';
import { main } from './main.js';

const argv = process.argv.slice(2);
void main(argv, {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  // `run` needs the audit thread: it boots on the other core while run's bundle loads (~100 ms
  // of CPU either way), rather than beside the guest's start
  auditThread:
    argv[0] === 'run' && !argv.includes('--help') && !argv.includes('-h') ? bootAuditThread() : undefined,
}).then((status) => {
  process.exitCode = status;
});
