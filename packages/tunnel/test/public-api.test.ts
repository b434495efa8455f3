/**
 * Every public name of this package carries TSDoc (docs/ARCHITECTURE.md "Where to add things",
 * "A public name"): what its package.json `exports` lead to, names and public members alike.
 */
import { fileURLToPath } from "node:url";
import { undocumentedNamesOf } from "@tunnel/testkit/api-docs";
import { describe, expect, it } from "vitest";

describe("public API", () => {
  it("every exported name and public member has TSDoc", () => {
    expect(undocumentedNamesOf(fileURLToPath(new URL("..", import.meta.url)))).toEqual([]);
  }, 60_000);
});
