import * as z from 'zod';
import { ConfigSchema } from './schema.js';

/**
 * The one `$schema` URL a config file names (the schema's `$id`); every example in the docs
 * uses it (test/docs-schema-url.test.ts). A placeholder until the project has a public home.
 */
export const CONFIG_SCHEMA_URL = 'https://example.invalid/airlock/docs/config.schema.json';

/** The config file's JSON Schema (input side: defaults shown, fields optional), as file text. */
export function renderConfigJsonSchema(): string {
  const schema = z.toJSONSchema(ConfigSchema, { io: 'input', target: 'draft-2020-12' });
  const { $schema, ...rest } = schema;
  return `${JSON.stringify({ $schema, $id: CONFIG_SCHEMA_URL, title: 'airlock config', ...rest }, null, 2)}\n`;
}
