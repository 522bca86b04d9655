import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AirlockError } from '../errors.js';

/** USD per million tokens of one model. */
export interface ModelPrice {
  input: number;
  output: number;
}

/** Prices by model name (or name prefix), as of a date. */
export interface PriceTable {
  /** when the prices were read, ISO 8601 date */
  date: string;
  models: Readonly<Record<string, ModelPrice>>;
}

/** The table shipped with airlock: `data/llm-prices.json`, two levels up from src/budget or dist/budget. */
export const PRICES_FILE = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'data',
  'llm-prices.json',
);

let shipped: PriceTable | undefined;

/** The shipped price table (read once per process). */
export function shippedPrices(): PriceTable {
  if (shipped) return shipped;
  try {
    const raw = JSON.parse(readFileSync(PRICES_FILE, 'utf8')) as PriceTable;
    shipped = { date: raw.date, models: raw.models };
  } catch (cause) {
    throw new AirlockError('AIRLOCK_ERR_CONFIG', `cannot read the price table ${PRICES_FILE}`, { cause });
  }
  return shipped;
}

/** The shipped table with the config's `prices` on top (a model named there replaces the shipped entry). */
export function priceTable(
  override: { date?: string | undefined; models?: Readonly<Record<string, ModelPrice>> | undefined } = {},
): PriceTable {
  const base = shippedPrices();
  return { date: override.date ?? base.date, models: { ...base.models, ...override.models } };
}

/**
 * The price of `model`: the entry with the longest name that the model's name starts with
 * (`gpt-4o-mini-2024-07-18` → `gpt-4o-mini`). A model the table does not know (or none) is
 * priced as the dearest model in the table, so an unknown model cannot slip past a USD budget.
 */
export function priceOf(table: PriceTable, model: string | undefined): ModelPrice {
  let best: string | undefined;
  if (model !== undefined) {
    const name = model.toLowerCase().replace(/^models\//, '');
    for (const key of Object.keys(table.models)) {
      if (name.startsWith(key.toLowerCase()) && (best === undefined || key.length > best.length)) best = key;
    }
  }
  if (best !== undefined) return table.models[best]!;
  let dearest: ModelPrice = { input: 0, output: 0 };
  for (const p of Object.values(table.models)) {
    if (p.input + p.output > dearest.input + dearest.output) dearest = p;
  }
  return dearest;
}

/** The estimated cost in USD of `input` and `output` tokens of `model`. */
export function costOf(table: PriceTable, model: string | undefined, input: number, output: number): number {
  const price = priceOf(table, model);
  return (input * price.input + output * price.output) / 1e6;
}
