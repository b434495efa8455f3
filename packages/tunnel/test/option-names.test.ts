/**
 * How the engine's messages name options (option-names.ts): by the caller's names when it
 * passes them (the CLI passes its flags), else by the engine's own fields, so that a library
 * caller never reads a flag of a command line it does not have.
 */
import { describe, expect, it } from "vitest";
import { tooManyKeysHint } from "../src/hop-login.ts";
import { optionName } from "../src/option-names.ts";
import { socketAdapter } from "../src/sockets.ts";

describe("optionName", () => {
  it("is the field without names, the caller's name with them", () => {
    expect(optionName(undefined, "allowRemote")).toBe("allowRemote");
    expect(optionName({}, "hostKeyCheck")).toBe("hostKeyCheck");
    expect(optionName({ allowRemote: "--allow-remote" }, "allowRemote")).toBe("--allow-remote");
    // a name given for one option leaves the others at their fields
    expect(optionName({ allowRemote: "--allow-remote" }, "port")).toBe("port");
  });

  it("an engine refusal names the field for a library caller and the flag for the CLI", () => {
    expect(() => socketAdapter("no-such-adapter")).toThrow(/^sockets: "no-such-adapter" is not a socket adapter/);
    expect(() => socketAdapter("no-such-adapter", { sockets: "--sockets" })).toThrow(
      /^--sockets: "no-such-adapter" is not a socket adapter/,
    );
  });

  it("the advice after a MaxAuthTries hang-up names the identity option as the caller does", () => {
    expect(tooManyKeysHint(undefined)).toBe(
      "name the right key (identity, IdentityFile) and set IdentitiesOnly so that only it is offered",
    );
    expect(tooManyKeysHint({ identity: "--identity" })).toBe(
      "name the right key (--identity, IdentityFile) and set IdentitiesOnly so that only it is offered",
    );
  });
});
