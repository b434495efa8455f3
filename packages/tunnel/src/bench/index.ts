/**
 * `@tunnel/core/bench`: the load tools behind `tunnel bench` and the benchmark suite — a target
 * that sinks, sources and echoes bytes, the load generators that drive it through a tunnel, a
 * relay that adds WAN delay, and the loopback and via-bastion runs. Not part of `@tunnel/core`'s
 * root: a program that only opens tunnels never loads it.
 */

export {
  DEFAULT_RELAY_CAP,
  type DelayRelay,
  type DelayRelayOptions,
  type RelayStats,
  startDelayRelay,
} from "./delay-relay.ts";
export {
  type AggregateResult,
  download,
  type EchoResult,
  echoTransfer,
  type LoadEnv,
  type ManyResult,
  manyChannels,
  parallelTransfers,
  type RoundTrip,
  roundTrip,
  type Throughput,
  upload,
} from "./load.ts";
export {
  type BenchOptions,
  type BenchRow,
  benchLoopback,
  benchVia,
  listenBenchTarget,
  preferredCipherList,
} from "./run.ts";
export { encodeHeader, HEADER_BYTES, patternBlock, pump, startTarget } from "./target.ts";
