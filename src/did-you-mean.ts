/**
 * "Did you mean …?" for a mistyped name: the closest candidate by edit distance, compared
 * case-insensitively and with `_` and `-` alike (so `llm_only` finds `llm-only` and
 * `openai_api_key` finds `OPENAI_API_KEY`). Used in error hints for commands, flags,
 * profiles and credential names.
 */
export function closestName(input: string, candidates: Iterable<string>): string | undefined {
  const wanted = fold(input);
  // a third of the name may be wrong (at least one edit), so short names don't match anything
  const limit = Math.max(1, Math.floor(wanted.length / 3));
  let best: { name: string; distance: number } | undefined;
  for (const name of candidates) {
    const distance = editDistance(wanted, fold(name));
    if (distance <= limit && (best === undefined || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}

/** `did you mean "x"? ` to start a hint with, or '' when nothing is close. */
export function didYouMean(input: string, candidates: Iterable<string>): string {
  const name = closestName(input, candidates);
  return name === undefined ? '' : `did you mean "${name}"? `;
}

function fold(name: string): string {
  return name.toLowerCase().replaceAll('_', '-');
}

/** Levenshtein distance: insertions, deletions and substitutions each cost one. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitute = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitute));
    }
    previous = current;
  }
  return previous[b.length]!;
}
