// Prometheus metrics of the freshness protocol (docs/replica.md#freshness): what it adds to a change
// that takes access away — the fence lock before its commit, the replicas' acknowledgements after.
import { Counter, Histogram, type Registry } from "prom-client";

export interface ReplicaMetrics {
  /**
   * Observed once per change that found live leases to wait for: the time its fence lock took
   * before the commit, plus commit → every lease acknowledged or run out.
   */
  fenceWait: Histogram;
  /** Changes that stopped waiting at their limit (never expected: replica/leases.ts). */
  gaveUp: Counter;
}

export function registerReplicaMetrics(registry: Registry): ReplicaMetrics {
  return {
    fenceWait: new Histogram({
      name: "rollcall_replica_fence_wait_seconds",
      help: "What the freshness protocol added to a change that takes access away, when it found live replica leases: taking the fence lock before its commit, and waiting after it until every live lease had acknowledged it or run out.",
      buckets: [
        0.002, 0.005, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
        60,
      ],
      registers: [registry],
    }),
    gaveUp: new Counter({
      name: "rollcall_replica_ack_gave_up_total",
      help: "Changes that stopped waiting for replica acknowledgements at their limit (the lease's length and a second).",
      registers: [registry],
    }),
  };
}
