import { randomInt } from 'node:crypto';
import type { Service } from '../../catalogue/service.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * A fresh placeholder for one sandbox: the real key's prefix (SDKs check it: `sk-`, `hf_`,
 * `ghp_`, `AIza`) and a random tail from a CSPRNG, so no two sandboxes share one and a guest
 * cannot guess another's.
 */
export function makePlaceholder(service: Service): string {
  let tail = '';
  for (let i = 0; i < service.placeholderLength; i++) tail += ALPHABET[randomInt(ALPHABET.length)];
  return `${service.placeholderPrefix}${tail}`;
}
