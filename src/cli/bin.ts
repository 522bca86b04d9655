#!/usr/bin/env node
// The `airlock` executable: runs main and sets the exit status (main never calls process.exit).
import { main } from './main.js';

void main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
}).then((status) => {
  process.exitCode = status;
});
