import { distance } from 'fastest-levenshtein';

/**
 * The known name closest to a mistyped one, for "did you mean"; undefined when none is close (within two edits, or
 * a third of the name's length for a long one).
 */
export function closest(name: string, known: readonly string[]): string | undefined {
  const [best] = known.map((k) => ({ k, d: distance(name, k) })).sort((x, y) => x.d - y.d);
  return best && best.d <= Math.max(2, Math.floor(name.length / 3)) ? best.k : undefined;
}

/** " (did you mean X?)" when a known name is close, else nothing. */
export const didYouMean = (name: string, known: readonly string[]): string => {
  const near = closest(name, known);
  return near ? ` (did you mean ${near}?)` : '';
};
