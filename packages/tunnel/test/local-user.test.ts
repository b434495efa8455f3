import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { localUserName } from "../src/local-user.ts";

describe("localUserName", () => {
  it("is the passwd name of our uid, as OpenSSH's getpwuid(getuid()) gives, whatever $USER says", () => {
    // `id -un` asks the same database OpenSSH does; Bun's os.userInfo() answers "unknown"
    // when $USER is unset, which must not become the SSH user name.
    const expected = execFileSync("id", ["-un"], { encoding: "utf8" }).trim();
    const saved = { USER: process.env.USER, LOGNAME: process.env.LOGNAME };
    try {
      delete process.env.USER;
      delete process.env.LOGNAME;
      expect(localUserName()).toBe(expected);
    } finally {
      for (const [k, v] of Object.entries(saved)) if (v !== undefined) process.env[k] = v;
    }
  });
});
