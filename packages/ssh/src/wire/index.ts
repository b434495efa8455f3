/**
 * `@tunnel/ssh/wire`: the SSH data types of RFC 4251 §5, for a program that reads a global
 * request's payload (`ServerOptions.onGlobalRequest`) or builds its reply.
 */
export { Reader } from "./reader.ts";
export { Writer } from "./writer.ts";
