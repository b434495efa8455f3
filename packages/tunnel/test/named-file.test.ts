/**
 * Files the user names (packages/tunnel/src/named-file.ts): a missing one and an unreadable one
 * (a directory) each give one line naming what the file was for, whichever loader reads it.
 * The reason is the runtime's own words ("EISDIR: illegal operation…", Deno's "Is a directory").
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { HostKeyInfo } from "@tunnel/ssh";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadAuthorizedKeys } from "../src/authorized-keys.ts";
import { loadCertificateFile } from "../src/certificate-files.ts";
import { loadEnvironment } from "../src/env.ts";
import { loadIdentity } from "../src/identity.ts";
import { knownHostKeyTypesIn, knownHostsVerifier } from "../src/known-hosts-file.ts";

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "named-file-"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const loaders: [string, (file: string) => unknown][] = [
  ["env file", (file) => loadEnvironment({}, { envFile: file, cwd: dir })],
  ["certificate file", (file) => loadCertificateFile(file)],
  ["authorized keys file", (file) => loadAuthorizedKeys(file, () => {})],
  ["identity file", (file) => loadIdentity(file)],
];

describe("a file the user named", () => {
  for (const [what, load] of loaders) {
    it(`${what}: missing → "${what} … does not exist"`, () => {
      const file = path.join(dir, "absent");
      expect(() => load(file)).toThrow(new TypeError(`${what} ${file} does not exist`));
    });
    it(`${what}: a directory → "cannot read ${what} …: reason"`, () => {
      expect(() => load(dir)).toThrow(new RegExp(`^cannot read ${what} ${dir}: .*directory`, "i"));
    });
  }
  it("known_hosts file: a missing one is an empty one; a directory is one line", () => {
    expect(knownHostKeyTypesIn(path.join(dir, "absent"), "example.com", 22)).toEqual([]);
    const shown = { host: "example.com", port: 22 } as HostKeyInfo; // read no further than the file
    expect(() => knownHostsVerifier(dir, "yes")(shown)).toThrow(
      new RegExp(`^cannot read known_hosts file ${dir}: .*directory`, "i"),
    );
  });
});
