// Hand-written SVG charts for docs/benchmarks.md: a horizontal bar chart of
// ratios to the floor (1.0 = the bare server of the same run) and a p50/p99
// latency chart per server. Plain <svg> with <rect> and <text>, no
// dependency; a missing value draws no bar and says "n/a".
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";

const width = 720;
const labelWidth = 300;
const valueWidth = 70;
const plotWidth = width - labelWidth - valueWidth - 20;
const rowHeight = 22;
const top = 40;
const colors = { bar: "#4a6fa5", p50: "#4a6fa5", p99: "#e0a040", floor: "#333" };

const escapeXml = (text) =>
  String(text).replace(
    /[<>&"']/g,
    (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c],
  );
const finite = (n) => typeof n === "number" && Number.isFinite(n);
/** Labels longer than fit left of the plot (about 6.5 px a character at 12 px) are cut. */
const maxLabel = Math.floor((labelWidth - 12) / 6.5);
const clip = (label) => (label.length > maxLabel ? `${label.slice(0, maxLabel - 1)}…` : label);
const fmt = (n) => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));

function text(
  x,
  y,
  content,
  { anchor = "start", size = 12, weight = "normal", fill = "#222" } = {},
) {
  return (
    `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" font-size="${size}" font-weight="${weight}" ` +
    `fill="${fill}" text-anchor="${anchor}" font-family="sans-serif">${escapeXml(content)}</text>`
  );
}

function frame(height, title, body) {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
      `viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(title)}">`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#fff"/>`,
    text(10, 20, title, { size: 14, weight: "bold" }),
    ...body,
    "</svg>",
    "",
  ].join("\n");
}

/**
 * Ratios to the floor, one bar per row (`rows`: `{ label, ratio }`). Linear
 * from 0 while the largest ratio is at most 10; past that a log scale, each
 * bar drawn from 1.0 (left of it: below the floor). A dashed line marks 1.0.
 */
export function ratioChart(title, rows) {
  const values = rows.map((r) => r.ratio).filter((r) => finite(r) && r > 0);
  const max = Math.max(1, ...values) * 1.05;
  const log = max > 10;
  const min = log ? Math.min(1, ...values) / 1.2 : 0;
  const x = (v) =>
    labelWidth +
    (log
      ? (Math.log10(v / min) / Math.log10(max / min)) * plotWidth
      : ((v - min) / (max - min)) * plotWidth);
  const body = [];
  rows.forEach((row, i) => {
    const y = top + i * rowHeight;
    body.push(text(labelWidth - 8, y + 15, clip(row.label), { anchor: "end" }));
    if (finite(row.ratio) && row.ratio > 0) {
      const from = log ? Math.min(x(1), x(row.ratio)) : labelWidth;
      const to = log ? Math.max(x(1), x(row.ratio)) : x(row.ratio);
      const w = Math.max(1, to - from);
      body.push(
        `<rect x="${from.toFixed(1)}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowHeight - 6}" fill="${colors.bar}"/>`,
        text(to + 6, y + 15, `${fmt(row.ratio)}×`),
      );
    } else {
      body.push(text(labelWidth + 6, y + 15, "n/a", { fill: "#888" }));
    }
  });
  const bottom = top + rows.length * rowHeight;
  const one = x(1);
  body.push(
    `<line x1="${one.toFixed(1)}" y1="${top - 4}" x2="${one.toFixed(1)}" y2="${bottom + 4}" ` +
      `stroke="${colors.floor}" stroke-dasharray="4 3"/>`,
    text(one, bottom + 18, "1.0 = floor (bare server, same run)", { anchor: "middle", size: 11 }),
    text(width - 10, 20, log ? "log scale" : "linear scale", { anchor: "end", size: 11 }),
  );
  return frame(bottom + 30, title, body);
}

/**
 * p50 and p99 per server (`series`: `{ name, p50, p99 }`), two bars each,
 * on one linear scale from 0 in `unit`.
 */
export function latencyChart(title, series, unit = "ms") {
  const values = series.flatMap((s) => [s.p50, s.p99]).filter(finite);
  const max = Math.max(...values, 1e-9) * 1.05;
  const x = (v) => labelWidth + (v / max) * plotWidth;
  const body = [];
  let y = top;
  for (const s of series) {
    for (const [key, color] of [
      ["p50", colors.p50],
      ["p99", colors.p99],
    ]) {
      body.push(text(labelWidth - 8, y + 15, clip(`${s.name} ${key}`), { anchor: "end" }));
      const v = s[key];
      if (finite(v)) {
        const w = Math.max(1, x(v) - labelWidth);
        body.push(
          `<rect x="${labelWidth}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowHeight - 6}" fill="${color}"/>`,
          text(labelWidth + w + 6, y + 15, `${fmt(v)} ${unit}`),
        );
      } else {
        body.push(text(labelWidth + 6, y + 15, "n/a", { fill: "#888" }));
      }
      y += rowHeight;
    }
    y += 6;
  }
  body.push(text(width - 10, 20, `${unit}, linear scale from 0`, { anchor: "end", size: 11 }));
  return frame(y + 16, title, body);
}

/** Human names of the servers in the results. */
const serverNames = {
  veil: "Veil",
  bare: "bare ws",
  bareWs: "bare ws relay",
  bareHttp: "bare HTTP relay",
  bareString: "bare ws (strings)",
  cluster: "Veil cluster",
  single: "Veil 1 node",
};
export const serverName = (key) => serverNames[key] ?? key;

/**
 * The servers of a results object: every entry that is an object with a
 * number at `probe` (Veil, the floors, and any peer stored in the same
 * shape, such as ejabberd), Veil first, the floor last.
 */
export function serversOf(results, probe, floor, get = (s, k) => s?.[k]) {
  const keys = Object.entries(results ?? {})
    .filter(([, v]) => v && typeof v === "object" && typeof get(v, probe) === "number")
    .map(([k]) => k);
  const rank = (k) => (k === "veil" ? 0 : k === floor ? 2 : 1);
  return keys.sort((a, b) => rank(a) - rank(b));
}

/**
 * The ratio rows of `results` (servers by key) against `floor`, one per
 * figure `[label, key]` and non-floor server (`get(server, key)` reads a figure).
 */
export function ratioRows(results, floor, figures, { get = (s, k) => s?.[k], skip = [] } = {}) {
  const servers = serversOf(results, figures[0][1], floor, get).filter(
    (k) => k !== floor && !skip.includes(k),
  );
  const base = results?.[floor];
  const rows = [];
  for (const [label, key] of figures) {
    for (const server of servers) {
      const a = get(results[server], key);
      const b = get(base, key);
      rows.push({
        label: servers.length > 1 ? `${label}, ${serverName(server)}` : label,
        ratio: finite(a) && finite(b) && b !== 0 ? a / b : Number.NaN,
      });
    }
  }
  return rows;
}

/** Latency series `{ name, p50, p99 }` of every server of `results`. */
export function latencySeries(results, p50Key, p99Key, floor, get = (s, k) => s?.[k]) {
  return serversOf(results, p50Key, floor, get).map((k) => ({
    name: serverName(k),
    p50: get(results[k], p50Key),
    p99: get(results[k], p99Key),
  }));
}

/** Reads a dotted path ("relay.messagesPerSecond") of an object. */
export const byPath = (object, key) =>
  key.split(".").reduce((value, part) => (value == null ? undefined : value[part]), object);

/**
 * Writes the charts (`{ name, title, svg }`) into `dir` and returns the
 * Markdown that embeds them, relative to the docs page (`benchmarks/<name>.svg`).
 */
export async function writeCharts(dir, charts) {
  await mkdir(dir, { recursive: true });
  const lines = [];
  for (const chart of charts) {
    await writeFile(path.join(dir, `${chart.name}.svg`), chart.svg);
    lines.push(`![${chart.title}](${path.basename(dir)}/${chart.name}.svg)`, "");
  }
  return lines.join("\n");
}
