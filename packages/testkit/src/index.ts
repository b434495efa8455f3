/**
 * The set-up the interop tests (test/) and the benchmarks (bench/) share: a real OpenSSH sshd,
 * user keys made by ssh-keygen, free loopback ports, a relay that injects network faults, and
 * TCP ends and byte streams that record and verify what crossed a tunnel.
 */
export * from "./connections.ts";
export * from "./fault-relay.ts";
export * from "./keys.ts";
export * from "./ports.ts";
export * from "./runtime.ts";
export * from "./sshd.ts";
