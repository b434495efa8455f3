/**
 * Passwords in service URLs (issue 12, item 9): userinfo is split and percent-decoded as
 * RFC 3986 §3.2 says, a raw "/", "?" or "#" in a password can never send the tunnel to
 * another host, and no error message or masked URL ever contains the password. Only the full
 * rewritten URL (what `--json` prints) carries it, as the user wrote it.
 */
import { describe, expect, it } from "vitest";
import { mask, parseEnvFile, resolveTarget, rewriteUrl } from "../src/target.ts";

/** How a URL must come out: host, port, user and password (percent-decoded). */
const accepted: [string, string, number, string | undefined, string | undefined][] = [
  ["postgres://app:s%2Fcr%3Ft%23x@10.0.0.12:5432/app", "10.0.0.12", 5432, "app", "s/cr?t#x"],
  ["postgres://app:p@ss@db.internal/app", "db.internal", 5432, "app", "p@ss"],
  ["postgres://app:p%40ss@db.internal:6543/app", "db.internal", 6543, "app", "p@ss"],
  ["mysql://root:a:b:c@h/db", "h", 3306, "root", "a:b:c"],
  ["mysql://root:a%3Ab@h/db", "h", 3306, "root", "a:b"],
  ["redis://:hunter2@[fd00::1]:6380/0", "fd00::1", 6380, "", "hunter2"],
  ["redis://:hunter2@[fd00::1]/0", "fd00::1", 6379, "", "hunter2"],
  ["postgres://us%40er:pw@[::1]/db", "::1", 5432, "us@er", "pw"],
  ["postgres://user@corp:pw@corp.postgres.example/db", "corp.postgres.example", 5432, "user@corp", "pw"],
  ["amqp://guest:guest@rabbit:/vhost", "rabbit", 5672, "guest", "guest"],
  ["https://tok%3Aen:x@api.internal", "api.internal", 443, "tok:en", "x"],
  ["postgres://app:%F0%9F%94%91@h/db", "h", 5432, "app", "🔑"],
  ["postgres://app@h:5432/db", "h", 5432, "app", undefined],
  ["postgres://app:@h/db", "h", 5432, "app", ""],
  ["postgres://h/db", "h", 5432, undefined, undefined],
  ["POSTGRES://app:x@H.example", "H.example", 5432, "app", "x"],
  ["redis://:a!$&'()*+;=b@h", "h", 6379, "", "a!$&'()*+;=b"],
];

describe("URL userinfo per RFC 3986", () => {
  it.each(accepted)("%s → host %s, port %i, user %j", (url, host, port, user, password) => {
    for (const t of [resolveTarget(url, {}), resolveTarget("DATABASE_URL", { DATABASE_URL: url })]) {
      expect([t.host, t.port]).toEqual([host, port]);
      expect(t.url?.user).toBe(user);
      expect(t.url?.password).toBe(password);
    }
  });

  it("the masked rewrite hides the password; the full one is the URL the user wrote, host and port swapped", () => {
    const t = resolveTarget("postgres://app:s%2Fcr%3Ft%23x@10.0.0.12:5432/app?sslmode=require", {});
    expect(rewriteUrl(t, "127.0.0.1", 12345, true)).toBe("postgres://app:****@127.0.0.1:12345/app?sslmode=require");
    expect(rewriteUrl(t, "127.0.0.1", 12345)).toBe("postgres://app:s%2Fcr%3Ft%23x@127.0.0.1:12345/app?sslmode=require");
    const raw = resolveTarget("postgres://app:p@ss@db.internal/app", {});
    expect(rewriteUrl(raw, "127.0.0.1", 1, true)).toBe("postgres://app:****@127.0.0.1:1/app");
    expect(rewriteUrl(raw, "127.0.0.1", 1)).toBe("postgres://app:p@ss@127.0.0.1:1/app");
  });

  it("a password= query parameter is masked too", () => {
    const t = resolveTarget("postgres://h/db?user=a&password=Zq9Xw&sslpassword=Yv8", {});
    expect(rewriteUrl(t, "127.0.0.1", 1, true)).toBe("postgres://127.0.0.1:1/db?user=a&password=****&sslpassword=****");
    expect(rewriteUrl(t, "127.0.0.1", 1)).toBe("postgres://127.0.0.1:1/db?user=a&password=Zq9Xw&sslpassword=Yv8");
  });
});

/**
 * Refused URLs, with the pieces of the password that must appear in no message. Each
 * password is built from markers (Zq9, Xw, …) found nowhere else.
 */
const refused: [string, string[], RegExp][] = [
  // A raw "/", "?" or "#" ends the authority (RFC 3986 §3.2): the host would be "app".
  ["postgres://app:Zq9/Xw@db.internal/app", ["Zq9", "Xw"], /"@" after its host.*%2F, %3F and %23/],
  ["postgres://app:Zq9#Xw@db.internal/app", ["Zq9", "Xw"], /"@" after its host/],
  ["postgres://app:Zq9?Xw@db.internal/app", ["Zq9", "Xw"], /"@" after its host/],
  ["postgres://app:Zq9@Xw#Yv8@db.internal/app", ["Zq9", "Xw", "Yv8"], /"@" after its host/],
  // Digits before the "/": read as RFC 3986 says, app:1289 is a valid host and port.
  ["postgres://app:1289/3467@db.internal/app", ["1289", "3467"], /"@" after its host/],
  // A password starting with "/": "app:" is a host with an empty (default) port.
  ["postgres://app:/Zq9Xw@db.internal/app", ["Zq9Xw"], /"@" after its host/],
  ["postgres://app:Zq9%zzXw@db.internal/app", ["Zq9", "Xw"], /password has a "%" not followed by two hex digits/],
  ["postgres://app:Zq9%C3Xw@db.internal/app", ["Zq9", "Xw"], /password is not UTF-8 once percent-decoded/],
  ["postgres://us%zzer:Yv8@db.internal/app", ["Yv8"], /user name has a "%"/],
  ["postgres://app:Zq9 Xw@db.internal/app", ["Zq9", "Xw"], /space or control character/],
  ["postgres://app:Zq9Xw@/db", ["Zq9Xw"], /has no host/],
  ["postgres://app:Zq9Xw@db.internal:54x2/db", ["Zq9Xw"], /port is not a number/],
  ["postgres://app:Zq9Xw@db.internal:99999/db", ["Zq9Xw"], /port is out of range/],
  ["postgres://app:Zq9Xw@fd00::1/db", ["Zq9Xw"], /IPv6 address in a URL goes in brackets/],
  ["postgres://app:Zq9Xw@[fd00::1/db", ["Zq9Xw"], /not an IPv6 address in brackets/],
  ["postgres://app:Zq9Xw@db_in ternal/db", ["Zq9Xw"], /space or control character/],
  ["postgres://app:Zq9Xw@d%C3%A9b/db", ["Zq9Xw"], /is not a host name/],
  ["mongodb://app:Zq9Xw@a:1,b:2/db", ["Zq9Xw"], /several hosts are not supported/],
  ["foo://app:Zq9Xw@h", ["Zq9Xw"], /scheme "foo" has no default port/],
  ["1pg://app:Zq9Xw@h", ["Zq9Xw"], /is not a valid URL/],
  ["mongodb+srv://app:Zq9Xw@cluster.example.net/db", ["Zq9Xw"], /mongodb\+srv/],
];

describe("refused URLs say why in one line, never with the password", () => {
  it.each(refused)("%s", (url, secrets, why) => {
    for (const [spec, env] of [
      [url, {}],
      ["DATABASE_URL", { DATABASE_URL: url }],
    ] as const) {
      let message = "";
      try {
        resolveTarget(spec, env);
      } catch (err) {
        expect(err).toBeInstanceOf(TypeError);
        message = (err as Error).message;
      }
      expect(message).toMatch(why);
      expect(message).not.toContain("\n");
      for (const s of secrets) expect(message).not.toContain(s);
    }
  });

  it("a literal URL target is named in messages with its password masked", () => {
    expect(() => resolveTarget("foo://app:Zq9Xw@h", {})).toThrow(
      'target "foo://app:****@h": scheme "foo" has no default port; expected foo://host:port',
    );
  });

  it("mask hides everything from the user name's end to the last @, raw @ / # included", () => {
    expect(mask("postgres://app:Zq9/Xw@h/db")).toBe("postgres://app:****@h/db");
    expect(mask("postgres://app:Zq9@Xw#Yv8@h/db")).toBe("postgres://app:****@h/db");
    expect(mask("postgres://app@h:5432/db")).toBe("postgres://app@h:5432/db");
    expect(mask("app:Zq9Xw@h:5432")).toBe("app:****@h:5432");
  });

  it("a bad .env line is quoted masked, and cut after masking", () => {
    const line = `this is not valid postgres://app:${"Zq9Xw".repeat(20)}@h/db`;
    let message = "";
    try {
      parseEnvFile(line, ".env");
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^\.env:1: expected KEY=VALUE, got "this is not valid postgres:\/\/app:\*\*\*\*@h\/db"$/);
    expect(message).not.toContain("Zq9");
  });
});
