import type { BudgetAsk } from './ledger.js';

/**
 * What an LLM request asks for, from its JSON body: the model, and the most output tokens it
 * may produce (`max_tokens`: Anthropic and OpenAI chat; `max_completion_tokens`: OpenAI chat;
 * `max_output_tokens`: OpenAI Responses; `generationConfig.maxOutputTokens`: Gemini, whose
 * model is in the path). Anything unreadable asks for nothing in particular.
 */
export function readAsk(body: Buffer | undefined, path: string): BudgetAsk {
  const ask: BudgetAsk = {};
  const inPath = /\/models\/([^/:]+)/.exec(path);
  if (inPath) ask.model = decodeURIComponent(inPath[1]!);
  if (!body || body.length === 0) return ask;
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    return ask;
  }
  if (typeof value !== 'object' || value === null) return ask;
  const o = value as Record<string, unknown>;
  if (typeof o.model === 'string' && o.model !== '') ask.model = o.model.slice(0, 200);
  const config =
    typeof o.generationConfig === 'object' && o.generationConfig !== null ? o.generationConfig : {};
  for (const n of [
    o.max_tokens,
    o.max_completion_tokens,
    o.max_output_tokens,
    (config as Record<string, unknown>).maxOutputTokens,
  ]) {
    if (typeof n === 'number' && Number.isSafeInteger(n) && n > 0) {
      ask.maxOutput = n;
      break;
    }
  }
  return ask;
}
