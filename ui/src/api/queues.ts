// What waits in each stage: GET /api/v1/etl/queues (api/schemas/queues.py).

import { useQuery } from "@tanstack/react-query";
import { useApi } from "./hooks";

export interface BrokerQueue {
  name: string;
  lane: "manual" | "scheduled";
  messages: number;
  consumers: number;
  declared: boolean;
}

export interface StageQueue {
  stage: "extract" | "transform" | "load";
  /** The caller's tenant's batches, of its active jobs, waiting for this stage. */
  pending_batches: number;
  /** Admin keys only (null otherwise): every tenant's ready messages and the stage's consumers. */
  messages: number | null;
  consumers: number | null;
  queues: BrokerQueue[];
}

export interface Queues {
  scope: "broker" | "tenant";
  stages: StageQueue[];
  jobs: { queued: number; running: number } & Record<string, number>;
  read_at: string;
}

export const queuesKey = ["queues"] as const;
export const QUEUES_REFRESH_MS = 5_000;

/** Read again every 5 s while the page is visible (TanStack Query pauses the interval in a hidden tab). */
export function useQueues() {
  const client = useApi();
  return useQuery({
    queryKey: queuesKey,
    queryFn: ({ signal }) => client.get<Queues>("/api/v1/etl/queues", undefined, signal),
    refetchInterval: QUEUES_REFRESH_MS,
    refetchIntervalInBackground: false,
    staleTime: 0,
  });
}
