/**
 * Where TARGET variables come from: the process environment, a `.env` file in the working
 * directory (never overriding the environment, as dotenv does), and `--env-file PATH`
 * (read on purpose, so its values win).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { readNamedFile } from "./named-file.ts";
import { parseEnvFile } from "./target.ts";

/** The variables TARGETs are read from: `envFile` over the environment over `.env` in `cwd`. */
export function loadEnvironment(
  processEnv: Readonly<Record<string, string | undefined>>,
  options: { envFile?: string | undefined; cwd?: string },
): Record<string, string | undefined> {
  const cwd = options.cwd ?? process.cwd();
  const dotenvPath = path.join(cwd, ".env");
  const dotenv = fs.existsSync(dotenvPath) ? parseEnvFile(fs.readFileSync(dotenvPath, "utf8"), dotenvPath) : {};
  let explicit: Record<string, string> = {};
  if (options.envFile !== undefined) {
    const file = path.resolve(cwd, options.envFile);
    const text = readNamedFile("env file", file);
    explicit = parseEnvFile(text, file);
  }
  return { ...dotenv, ...processEnv, ...explicit };
}
