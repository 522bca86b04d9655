import type * as audit from './audit.js';
import type * as completion from './completion.js';
import type * as create from './create.js';
import type * as daemon from './daemon.js';
import type * as doctor from './doctor.js';
import type * as exec from './exec.js';
import type * as gc from './gc.js';
import type * as learn from './learn.js';
import type * as logs from './logs.js';
import type * as ls from './ls.js';
import type * as profiles from './profiles.js';
import type * as rm from './rm.js';
import type * as run from './run.js';
import type * as services from './services.js';
import type * as update from './update.js';

/** The module of each command file, by its name in src/cli/. */
export interface CommandModules {
  audit: typeof audit;
  completion: typeof completion;
  create: typeof create;
  daemon: typeof daemon;
  doctor: typeof doctor;
  exec: typeof exec;
  gc: typeof gc;
  learn: typeof learn;
  logs: typeof logs;
  ls: typeof ls;
  profiles: typeof profiles;
  rm: typeof rm;
  run: typeof run;
  services: typeof services;
  update: typeof update;
}

/**
 * Loads one command's module (src/cli/NAME.ts) when it runs: `--help` loads none. The bundled
 * executable replaces this file with load-command-bundled.ts (scripts/bundle.mjs).
 */
export async function loadCommand<N extends keyof CommandModules>(name: N): Promise<CommandModules[N]> {
  return (await import(`./${name}.js`)) as CommandModules[N];
}
