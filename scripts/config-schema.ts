/**
 * Writes docs/config.schema.json from the zod schema (for editor completion):
 *   npx tsx scripts/config-schema.ts
 * A test fails when the committed file is out of date.
 */
import { writeFileSync } from 'node:fs';
import { renderConfigJsonSchema } from '../src/config/json-schema.js';

const target = new URL('../docs/config.schema.json', import.meta.url);
writeFileSync(target, renderConfigJsonSchema());
process.stdout.write(`wrote ${target.pathname}\n`);
