import { z } from 'zod';
import { ConfigSchema } from './schema.js';

/** The config file's JSON Schema (input side: defaults shown, fields optional), as file text. */
export function renderConfigJsonSchema(): string {
  const schema = z.toJSONSchema(ConfigSchema, { io: 'input', target: 'draft-2020-12' });
  return `${JSON.stringify({ ...schema, title: 'airlock config' }, null, 2)}\n`;
}
