// Type declarations for the two CommonJS libraries of this folder that ship none.

declare module "vader-sentiment" {
  interface PolarityScores {
    neg: number;
    neu: number;
    pos: number;
    compound: number;
  }
  const vader: {
    SentimentIntensityAnalyzer: { polarity_scores(text: string): PolarityScores };
  };
  export = vader;
}

declare module "wink-naive-bayes-text-classifier" {
  interface NaiveBayesTextClassifier {
    defineConfig(config: { considerOnlyPresence?: boolean; smoothingFactor?: number }): boolean;
    definePrepTasks(tasks: ReadonlyArray<(input: string) => string[]>): number;
    learn(input: string | string[], label: string): boolean;
    consolidate(): boolean;
    /** log2 odds per label (one label against the rest), highest first; [["unknown", 0]] when no token is known. */
    computeOdds(input: string | string[]): Array<[string, number]>;
    stats(): { labelWiseSamples: Record<string, number>; vocabulary: number };
  }
  function naiveBayesTextClassifier(): NaiveBayesTextClassifier;
  export = naiveBayesTextClassifier;
}
