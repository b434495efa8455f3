#!/usr/bin/env node
// Development launcher: runs the TypeScript entry through tsx (Node 20 has no type stripping).
import { register } from "tsx/esm/api";

register();
await import("../src/main.ts");
