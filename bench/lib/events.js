import { performance } from "node:perf_hooks";
import { median, quantile, sum } from "./stats.js";

/**
 * One event on one server, timed from the client side until the last of
 * `count` deliveries: `target` is `{ tracker, trigger(seq) }`, and the
 * trigger's answer (the sender's ack) is timed too.
 */
export async function fire(target, seq, count, timeoutMs) {
  const { t0, done } = target.tracker.expect(seq, count, timeoutMs);
  let responseMs = Number.NaN;
  const triggered = target.trigger(seq).then(() => {
    responseMs = performance.now() - t0;
  });
  const [, event] = await Promise.all([triggered, done]);
  const latencies = event.latencies;
  return {
    seq,
    firstMs: latencies[0],
    lastMs: latencies[latencies.length - 1],
    medianMs: median(latencies),
    responseMs,
    frameBytes: [...event.sizes],
    frame: event.first,
    frameText: event.firstText,
  };
}

/** Latencies and CPU of a series of fan-out events, each delivered to `connections` sockets. */
export function summariseEvents(events, cpuUs, connections) {
  const last = events.map((e) => e.lastMs);
  const response = events.map((e) => e.responseMs);
  const frames = events.length * connections;
  return {
    lastMedianMs: median(last),
    lastP95Ms: quantile(last, 0.95),
    lastP99Ms: quantile(last, 0.99),
    firstMedianMs: median(events.map((e) => e.firstMs)),
    deliveryMedianMs: median(events.map((e) => e.medianMs)),
    responseMedianMs: median(response),
    responseP99Ms: quantile(response, 0.99),
    cpuMs: cpuUs / 1000,
    cpuPerEventMs: cpuUs / 1000 / events.length,
    cpuPerFrameUs: cpuUs / frames,
    framesPerSecond: frames / (sum(last) / 1000),
  };
}

/** An event's results without the frames it kept (for the results file). */
export const withoutFrames = (events) => events.map(({ frame, frameText, ...rest }) => rest);
