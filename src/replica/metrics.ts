// Prometheus metrics of the freshness protocol (docs/replica.md#freshness): how long a change that
// takes access away waits, after its commit, for the replica clients holding live leases.
import { Counter, Histogram, type Registry } from "prom-client";

export interface ReplicaMetrics {
  /** Observed once per change that found live leases to wait for: commit → every one acknowledged or run out. */
  ackWait: Histogram;
  /** Changes that stopped waiting at their limit (never expected: replica/leases.ts). */
  gaveUp: Counter;
}

export function registerReplicaMetrics(registry: Registry): ReplicaMetrics {
  return {
    ackWait: new Histogram({
      name: "rollcall_replica_ack_wait_seconds",
      help: "How long a change that takes access away waited after its commit until every live replica lease had acknowledged it or run out (only changes that found live leases).",
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
