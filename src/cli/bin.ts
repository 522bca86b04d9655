#!/usr/bin/env node
// The `airlock` executable: runs main and exits with its status (main never calls process.exit).
// Once what main wrote is out, it exits at once, without the teardown of Node's heap and threads
// that waiting for an idle event loop costs (~7 ms of every `run`).
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
}).then(async (status) => {
  // a write's callback comes once every earlier write has left (a pipe may hold them back)
  await Promise.all([process.stdout, process.stderr].map((s) => new Promise((done) => s.write('', done))));
  process.exit(status);
});
