/**
 * Every public name of this package carries TSDoc (docs/ARCHITECTURE.md "Where to add things",
 * "A public name"): what its package.json `exports` lead to, names and public members alike.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { undocumentedNames, undocumentedNamesOf } from "@tunnel/testkit/api-docs";
import { describe, expect, it } from "vitest";

describe("public API", () => {
  it("every exported name and public member has TSDoc", () => {
    expect(undocumentedNamesOf(fileURLToPath(new URL("..", import.meta.url)))).toEqual([]);
  }, 60_000);

  it("the check names what has no TSDoc: a name, a member, a member with only a // comment", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "api-docs-"));
    try {
      const entry = path.join(dir, "index.ts");
      fs.writeFileSync(
        entry,
        [
          "/** Documented. */",
          "export interface Shape {",
          "  /** Documented. */",
          "  width: number;",
          "  height: number; // a line comment is not TSDoc",
          "}",
          "export const bare = 1;",
          "/** Documented, with a private member that needs none. */",
          "export class Box {",
          "  private inner = 0;",
          "  open(): number {",
          "    return this.inner;",
          "  }",
          "}",
          "",
        ].join("\n"),
      );
      const where = path.relative(process.cwd(), entry);
      expect(undocumentedNames([entry])).toEqual([`${where} Shape.height`, `${where} bare`, `${where} Box.open`]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
