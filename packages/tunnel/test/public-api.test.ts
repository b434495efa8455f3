/**
 * Every public name of this package carries TSDoc (docs/ARCHITECTURE.md "Where to add things",
 * "A public name"): what its package.json `exports` lead to, names and public members alike.
 */
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { exportedEntries, undocumentedNames } from "@tunnel/testkit/api-docs";
import { describe, expect, it } from "vitest";

const PACKAGE_DIR = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

describe("public API", () => {
  it("every exported name and public member has TSDoc", () => {
    const entries = exportedEntries(PACKAGE_DIR);
    expect(entries.length).toBeGreaterThan(1);
    expect(undocumentedNames(entries)).toEqual([]);
  }, 60_000);
});
