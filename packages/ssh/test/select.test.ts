import { describe, expect, it } from "vitest";
import { selectAlgorithms } from "../src/algorithms/select.ts";

const defaults = ["a-1", "b-2", "c-3"];
const supported = ["a-1", "b-2", "c-3", "d-4"];

describe("algorithm lists in OpenSSH syntax (ssh_config(5))", () => {
  it("defaults when unset", () => expect(selectAlgorithms("--x", undefined, defaults, supported)).toEqual(defaults));
  it("replaces with a plain list", () =>
    expect(selectAlgorithms("--x", "d-4,a-1", defaults, supported)).toEqual(["d-4", "a-1"]));
  it("appends with +", () =>
    expect(selectAlgorithms("--x", "+d-4", defaults, supported)).toEqual([...defaults, "d-4"]));
  it("removes with - and wildcards", () =>
    expect(selectAlgorithms("--x", "-b*,c-?", defaults, supported)).toEqual(["a-1"]));
  it("prepends with ^", () =>
    expect(selectAlgorithms("--x", "^c-3", defaults, supported)).toEqual(["c-3", "a-1", "b-2"]));
  it("expands wildcards in a plain list", () =>
    expect(selectAlgorithms("--x", "*-4", defaults, supported)).toEqual(["d-4"]));
  it("names an unsupported algorithm and the supported ones", () =>
    expect(() => selectAlgorithms("--ciphers", "aes128-cbc", defaults, supported)).toThrow(
      '--ciphers: unsupported algorithm "aes128-cbc"; expected one of a-1,b-2,c-3,d-4',
    ));
  it("refuses to remove everything", () =>
    expect(() => selectAlgorithms("--x", "-*", defaults, supported)).toThrow(/removes every/));
  it("refuses an empty list", () => expect(() => selectAlgorithms("--x", "+", defaults, supported)).toThrow(/empty/));
});
