// One progress bar for a whole benchmark run: the scenarios done, the current
// scenario and its latest step. Drawn on stderr, and only when stderr is a
// terminal; otherwise (CI, a log file) the log lines go out as before.
import cliProgress from "cli-progress";

const stepWidth = 48;

/** The last line of `message`, cut to `stepWidth` characters. */
function short(message) {
  const line = String(message).split("\n").pop() ?? "";
  return line.length > stepWidth ? `${line.slice(0, stepWidth - 1)}…` : line;
}

/**
 * The run's progress. `label` prefixes the bar, such as "[1/4]" when
 * `npm run bench` runs several scripts (BENCH_STEP).
 */
export class Progress {
  #multi = null;
  #bar = null;
  #done = 0;
  #scenario = "";

  constructor({ stream = process.stderr, label = process.env.BENCH_STEP ?? "" } = {}) {
    this.stream = stream;
    this.label = label ? `[${label}] ` : "";
    this.enabled = Boolean(stream.isTTY);
  }

  /** Starts the bar over `scenarios` (names). Does nothing without a terminal. */
  start(scenarios) {
    if (!this.enabled) return;
    this.#multi = new cliProgress.MultiBar(
      {
        stream: this.stream,
        format: `${this.label}bench {bar} {value}/{total} | {scenario} | {step} | {duration_formatted}`,
        hideCursor: true,
        gracefulExit: true,
        clearOnComplete: false,
        stopOnComplete: false,
        barsize: 24,
        fps: 5,
        autopadding: true,
      },
      cliProgress.Presets.shades_classic,
    );
    this.#bar = this.#multi.create(scenarios.length, 0, { scenario: "starting", step: "" });
  }

  /** Marks the start of `name`; the scenarios before it count as done. */
  scenario(name) {
    if (this.#scenario) this.#done++;
    this.#scenario = name;
    this.#bar?.update(this.#done, { scenario: name, step: "" });
  }

  /**
   * A log line: above the bar while it is drawn on the same terminal as
   * stdout, else on stdout as usual. The bar shows it as the current step.
   */
  log(line) {
    if (this.#multi && process.stdout.isTTY) this.#multi.log(`${line}\n`);
    else console.log(line);
    this.#bar?.update(this.#done, { step: short(line.replace(/^\[\s*[\d.]+s\]\s*/, "")) });
  }

  /** Fills the bar (if `finished`) and stops drawing it. */
  stop(finished = true) {
    if (!this.#multi) return;
    if (finished && this.#scenario) this.#done++;
    this.#bar.update(this.#done, { scenario: finished ? "done" : this.#scenario, step: "" });
    this.#multi.stop();
    this.#multi = null;
    this.#bar = null;
  }
}
