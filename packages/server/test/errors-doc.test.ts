import { readFileSync } from "node:fs";
import { closeCodes, errorRegistry } from "@veil/protocol";
import { describe, expect, it } from "vitest";

const docPath = new URL("../../../docs/errors.md", import.meta.url);
const closeHeading = "## WebSocket close codes";

/** A table row as docs/errors.md writes it: | `code` | number | meaning | */
const rowPattern = /^\|\s*`([a-z0-9_]+)`\s*\|\s*(\d+)\s*\|\s*(.*?)\s*\|\s*$/;

interface Row {
  code: string;
  number: number;
  meaning: string;
}

function rows(markdown: string): Row[] {
  return markdown.split("\n").flatMap((line) => {
    const match = rowPattern.exec(line.trim());
    if (!match?.[1] || !match[2]) return [];
    return [{ code: match[1], number: Number(match[2]), meaning: match[3] ?? "" }];
  });
}

/** Splits the document into the error table's part and the close codes' part. */
function sections(markdown: string): { errors: Row[]; closes: Row[] } {
  const at = markdown.indexOf(closeHeading);
  if (at < 0) return { errors: rows(markdown), closes: [] };
  return { errors: rows(markdown.slice(0, at)), closes: rows(markdown.slice(at)) };
}

/** Every way docs/errors.md can fall out of step with the registry; empty when in step. */
function problems(markdown: string): string[] {
  const found: string[] = [];
  const { errors, closes } = sections(markdown);
  const registry = Object.entries(errorRegistry);

  const documented = errors.map((r) => r.code);
  const expected = registry.map(([code]) => code);
  for (const code of expected) if (!documented.includes(code)) found.push(`undocumented: ${code}`);
  for (const code of documented)
    if (!expected.includes(code)) found.push(`not in registry: ${code}`);
  // Order: the codes both lists hold must appear in the registry's order.
  const inBoth = documented.filter((c) => expected.includes(c));
  const registryOrder = expected.filter((c) => documented.includes(c));
  if (inBoth.some((c, i) => c !== registryOrder[i])) {
    found.push(`order differs from errorRegistry: ${inBoth.join(", ")}`);
  }
  for (const row of errors) {
    const entry = errorRegistry[row.code as keyof typeof errorRegistry];
    if (!entry) continue;
    if (row.number !== entry.status) {
      found.push(`${row.code}: status ${row.number}, registry says ${entry.status}`);
    }
    if (!row.meaning.startsWith(entry.message)) {
      found.push(`${row.code}: meaning does not start with the registry's message`);
    }
  }
  if (new Set(documented).size !== documented.length) found.push("a code is listed twice");

  if (closes.length === 0) found.push(`no "${closeHeading}" table`);
  for (const [code, number] of Object.entries(closeCodes)) {
    const row = closes.find((r) => r.code === code);
    if (!row) found.push(`close code undocumented: ${code}`);
    else if (row.number !== number) {
      found.push(`close code ${code}: ${row.number}, closeCodes says ${number}`);
    }
  }
  for (const row of closes) {
    if (!Object.hasOwn(closeCodes, row.code)) found.push(`not in closeCodes: ${row.code}`);
    if (row.meaning === "") found.push(`close code ${row.code}: no meaning`);
  }
  return found;
}

const doc = readFileSync(docPath, "utf8");
const firstRow = (code: string) => doc.split("\n").find((l) => l.startsWith(`| \`${code}\``)) ?? "";

describe("docs/errors.md", () => {
  it("lists every registered error code, in order, with its HTTP status and message", () => {
    expect(problems(doc)).toEqual([]);
    const { errors } = sections(doc);
    expect(errors.map((r) => [r.code, r.number])).toEqual(
      Object.entries(errorRegistry).map(([code, entry]) => [code, entry.status]),
    );
  });

  it("documents every WebSocket close code", () => {
    const { closes } = sections(doc);
    expect(Object.fromEntries(closes.map((r) => [r.code, r.number]))).toEqual(closeCodes);
  });

  it("notices a document that has fallen out of step", () => {
    const row = firstRow("user_not_found");
    expect(row).not.toBe("");
    expect(problems(doc.replace(`${row}\n`, ""))).toContain("undocumented: user_not_found");
    expect(problems(doc.replace(row, row.replace("| 404 |", "| 400 |")))).toContain(
      "user_not_found: status 400, registry says 404",
    );
    const extra = "| `no_such_code` | 418 | Made up. |\n";
    expect(problems(doc.replace(`${row}\n`, `${row}\n${extra}`))).toContain(
      "not in registry: no_such_code",
    );
    const [firstCode, secondCode] = Object.keys(errorRegistry);
    const first = firstRow(firstCode as string);
    const second = firstRow(secondCode as string);
    const swapped = doc.replace(`${first}\n${second}`, `${second}\n${first}`);
    expect(swapped).not.toBe(doc);
    expect(problems(swapped).some((p) => p.startsWith("order differs"))).toBe(true);
    const closeRow = doc
      .slice(doc.indexOf(closeHeading))
      .split("\n")
      .find((l) => l.startsWith("| `slow_consumer`"));
    expect(closeRow).toBeDefined();
    const withoutClose = `${doc.slice(0, doc.indexOf(closeHeading))}${doc
      .slice(doc.indexOf(closeHeading))
      .replace(`${closeRow}\n`, "")}`;
    expect(problems(withoutClose)).toContain("close code undocumented: slow_consumer");
  });
});
