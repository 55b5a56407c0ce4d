/**
 * Words to split a spelt-out run back into ("iwillkillyou" -> "i will kill you"): the
 * function words around the terms the rules look for. A run that does not split into these
 * words stays joined, which obscenity's substring matching still reads.
 */
const vocabulary: ReadonlySet<string> = new Set(
  [
    "i a an the to you u ur your yourself myself me my we us he him she her they them it is am",
    "are be will ll gonna go and or for of in on at by up now all every one this that who here",
    "should must not no know where live hope get got buy sell selling sale send dm hit hmu me",
    "die dead death kill murder shoot stab rape hurt bomb hate burn gun guns school kys",
    "heroin cocaine coke meth weed mdma molly pills nudes porn sex fuck shit bitch",
    "free cash win money bitcoin btc gift card cards code hi mum mom dad new number phone",
    "jews muslims gays blacks women immigrants gas",
  ]
    .join(" ")
    .split(" "),
);

const longest = Math.max(...[...vocabulary].map((word) => word.length));

/** Splits `run` into the fewest vocabulary words, or returns undefined if it cannot. */
export function splitRun(run: string): string | undefined {
  // best[i]: fewest words covering run[0, i); from[i]: where the last of them starts.
  const best: number[] = [0];
  const from: number[] = [0];
  for (let end = 1; end <= run.length; end++) {
    best[end] = Number.POSITIVE_INFINITY;
    for (let start = Math.max(0, end - longest); start < end; start++) {
      const before = best[start] ?? Number.POSITIVE_INFINITY;
      if (
        before + 1 < (best[end] ?? Number.POSITIVE_INFINITY) &&
        vocabulary.has(run.slice(start, end))
      ) {
        best[end] = before + 1;
        from[end] = start;
      }
    }
  }
  if (!Number.isFinite(best[run.length] ?? Number.POSITIVE_INFINITY)) return undefined;
  const words: string[] = [];
  for (let end = run.length; end > 0; end = from[end] ?? 0)
    words.unshift(run.slice(from[end] ?? 0, end));
  return words.join(" ");
}
