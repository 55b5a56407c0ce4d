import path from "node:path";

const repoRoot = path.resolve(import.meta.dirname, "../..");

/** Where a profiled frame's code comes from: a package, a Veil module, Node, or the VM. */
function origin(callFrame) {
  const { url, functionName } = callFrame;
  if (!url) return functionName.startsWith("(") ? functionName : "(native)";
  if (url.startsWith("node:")) return "node (internals)";
  const file = url.startsWith("file://") ? new URL(url).pathname : url;
  const modules = file.lastIndexOf("/node_modules/");
  if (modules >= 0) {
    const parts = file.slice(modules + "/node_modules/".length).split("/");
    return parts[0].startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  const dist = file.match(/packages\/([^/]+)\/dist\/(.*)\.js$/);
  if (dist) return `@veil/${dist[1]} ${dist[2]}`;
  return path.relative(repoRoot, file);
}

function label(callFrame) {
  const name = callFrame.functionName || "(anonymous)";
  const where = origin(callFrame);
  return callFrame.url ? `${name} (${where}:${callFrame.lineNumber + 1})` : `${name} (native)`;
}

const isHarness = (callFrame) => callFrame.url.endsWith("/bench/servers/control.js");

/**
 * Summarises a V8 CPU profile: self time by origin, the functions with the
 * most self time, and Veil's own functions with the most inclusive time (on
 * the synchronous stack only: code resumed after an `await` starts a new stack).
 * Native code counts for the origin of the JavaScript that called it; the
 * harness's own frames (starting and stopping the profiler) are left out.
 */
export function summariseProfile(profile, { top = 12 } = {}) {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parents = new Map();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parents.set(child, node.id);
  const underHarness = (id) => {
    for (let at = id; at !== undefined; at = parents.get(at)) {
      if (isHarness(nodes.get(at).callFrame)) return true;
    }
    return false;
  };
  const origins = new Map();
  const originOf = (id) => {
    if (origins.has(id)) return origins.get(id);
    const frame = nodes.get(id).callFrame;
    let where = origin(frame);
    if (where === "(native)") {
      const parent = parents.get(id);
      const caller = parent === undefined ? "(root)" : originOf(parent).replace(/ → native$/, "");
      where = `${caller} → native`;
    }
    origins.set(id, where);
    return where;
  };

  const selfUs = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    if (underHarness(id)) continue;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }

  const byOrigin = new Map();
  const bySelf = new Map();
  let totalUs = 0;
  let idleUs = 0;
  for (const [id, us] of selfUs) {
    const frame = nodes.get(id).callFrame;
    if (frame.functionName === "(idle)") {
      idleUs += us;
      continue;
    }
    totalUs += us;
    const where = originOf(id);
    byOrigin.set(where, (byOrigin.get(where) ?? 0) + us);
    const name = label(frame);
    bySelf.set(name, (bySelf.get(name) ?? 0) + us);
  }

  // Inclusive time per function; a recursive function counts once per stack.
  const inclusive = new Map();
  const walk = (id, active) => {
    const node = nodes.get(id);
    let us = selfUs.get(id) ?? 0;
    if (isHarness(node.callFrame)) return 0;
    const name = label(node.callFrame);
    const fresh = !active.has(name);
    if (fresh) active.add(name);
    for (const child of node.children ?? []) us += walk(child, active);
    if (fresh) {
      active.delete(name);
      if (origin(node.callFrame).startsWith("@veil/")) {
        inclusive.set(name, (inclusive.get(name) ?? 0) + us);
      }
    }
    return node.callFrame.functionName === "(idle)" ? 0 : us;
  };
  walk(profile.nodes[0].id, new Set());

  const rank = (map) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, ms: us / 1000, share: totalUs ? us / totalUs : 0 }));
  return {
    busyMs: totalUs / 1000,
    idleMs: idleUs / 1000,
    byOrigin: rank(byOrigin),
    topSelf: rank(bySelf),
    topInclusive: rank(inclusive),
  };
}

/** Up to `width` characters of an SQL statement, on one line. */
function shortSql(sql, width = 110) {
  const line = sql.replace(/\s+/g, " ").trim();
  return line.length > width ? `${line.slice(0, width - 1)}…` : line;
}

/**
 * The time the Veil server (SQLite) spent in each SQL statement while `work`
 * ran, per unit of work (a message, an event): runs and row reads, and the
 * prepares of all statements together (Kysely prepares every query it runs).
 */
export async function timeSql(veil, units, work, { top = 12 } = {}) {
  await veil.request("sql-timing-start");
  let rows;
  try {
    await work();
  } finally {
    rows = await veil.request("sql-timing-stop");
  }
  const totalUs = rows.reduce((total, row) => total + row.us, 0);
  return {
    units,
    usPerUnit: totalUs / units,
    callsPerUnit: rows.reduce((total, row) => total + row.calls, 0) / units,
    statements: rows.slice(0, top).map((row) => ({
      sql: shortSql(row.sql),
      callsPerUnit: row.calls / units,
      usPerUnit: row.us / units,
      share: totalUs ? row.us / totalUs : 0,
    })),
  };
}
