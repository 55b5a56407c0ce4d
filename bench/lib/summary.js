/**
 * The console summary's rows of offline-drain, connection-capacity and
 * cluster: `{ name: [veil, floor] }`, as bench/run.js's printSummary prints them.
 */
export function summaryRows(run) {
  const table = {};
  const { offline, capacity, cluster } = run;
  if (offline) {
    const { veil, bare } = offline;
    table["offline: sent per second"] = [veil.sendPerSecond, bare.sendPerSecond];
    table["offline: drained per second"] = [veil.drainPerSecond, bare.drainPerSecond];
    table["offline: drain time (ms)"] = [veil.drainMs, bare.drainMs];
  }
  if (capacity) {
    const { veil, bare } = capacity;
    table["capacity: logins per second"] = [veil.loginsPerSecond, bare.loginsPerSecond];
    table["capacity: login p99 (ms)"] = [veil.loginP99Ms, bare.loginP99Ms];
    table["capacity: heap per connection (B)"] = [
      veil.perConnection.heapUsed,
      bare.perConnection.heapUsed,
    ];
  }
  if (cluster) {
    const floor = cluster.bare;
    for (const topology of ["cluster", "single"]) {
      const t = cluster[topology];
      if (!t) continue;
      table[`${topology}: relay messages per second`] = [
        t.relay.messagesPerSecond,
        floor.relay.messagesPerSecond,
      ];
      table[`${topology}: group last delivery p50 (ms)`] = [
        t.group.lastMedianMs,
        floor.group.lastMedianMs,
      ];
      table[`${topology}: channel last delivery p50 (ms)`] = [
        t.channel.lastMedianMs,
        floor.channel.lastMedianMs,
      ];
      if (!t.announcement) continue;
      table[`${topology}: announcement last delivery p50 (ms)`] = [
        t.announcement.lastMedianMs,
        floor.announcement.lastMedianMs,
      ];
      table[`${topology}: offline drained per second`] = [
        t.offline.drainPerSecond,
        floor.offline.drainPerSecond,
      ];
      table[`${topology}: reactions per second`] = [t.storm.perSecond, floor.storm.perSecond];
      table[`${topology}: logins per second`] = [
        t.logins.loginsPerSecond,
        floor.logins.loginsPerSecond,
      ];
    }
  }
  return table;
}
