import type { LabelledTokens } from "./dataset.js";

export interface SplitOptions {
  /** Seed of the shuffle; the same seed always gives the same split. */
  seed?: number;
  /** Share of each label held out for testing; 0.2 unless told. */
  testFraction?: number;
}

export interface DatasetSplit {
  train: LabelledTokens[];
  test: LabelledTokens[];
  /** Corpus indices of the held-out messages, ascending. */
  testIndices: number[];
}

/** The seed of the split the published figures use. */
export const defaultSplitSeed = 20_240_601;

/** mulberry32: a tiny, well-known 32-bit PRNG; plenty for shuffling, and the same everywhere. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * Splits a labelled corpus into train and test sets, stratified by label: each label's
 * messages are shuffled (Fisher-Yates, seeded) and the first `testFraction` of them held out.
 */
export function stratifiedSplit(
  docs: readonly LabelledTokens[],
  options: SplitOptions = {},
): DatasetSplit {
  const random = mulberry32(options.seed ?? defaultSplitSeed);
  const testFraction = options.testFraction ?? 0.2;
  if (!(testFraction > 0 && testFraction < 1))
    throw new RangeError("testFraction must be in (0, 1)");
  const held = new Set<number>();
  for (const label of ["ham", "spam"] as const) {
    const indices = docs.flatMap((doc, index) => (doc.label === label ? [index] : []));
    for (let i = indices.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [indices[i], indices[j]] = [indices[j] as number, indices[i] as number];
    }
    for (const index of indices.slice(0, Math.round(indices.length * testFraction)))
      held.add(index);
  }
  const train: LabelledTokens[] = [];
  const test: LabelledTokens[] = [];
  const testIndices: number[] = [];
  docs.forEach((doc, index) => {
    if (held.has(index)) {
      test.push(doc);
      testIndices.push(index);
    } else {
      train.push(doc);
    }
  });
  return { train, test, testIndices };
}
