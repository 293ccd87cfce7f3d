// The circuit breaker on an integration (etl/jobs/breaker.py): a "Paused" badge with the reason, and
// Resume, which asks the API to run the connection test and close the breaker only if it passes.

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { keys } from "../../api/cache";
import { useApi, useWriteBlocked } from "../../api/hooks";
import { integrationPath, type IntegrationFull } from "../../api/integrations";
import { toast } from "../../components/toast";
import { dateTime, relative } from "../../lib/format";

function why(integration: IntegrationFull): string {
  const since = integration.breaker_open_at ? ` since ${dateTime(integration.breaker_open_at)}` : "";
  const probe =
    integration.breaker_kind === "failures" && integration.breaker_probe_at
      ? ` A probe sync runs by itself ${relative(integration.breaker_probe_at)}.`
      : " Fix the cause (e.g. new credentials), then Resume.";
  return `Paused by the circuit breaker${since}: ${integration.breaker_reason ?? "no reason recorded"}.${probe}`;
}

/** Nothing for an integration that runs; else the badge, the reason and Resume. */
export function BreakerNotice({ integration }: { integration: IntegrationFull }) {
  const client = useApi();
  const queryClient = useQueryClient();
  const blocked = useWriteBlocked();
  const [error, setError] = useState<string | null>(null);
  const resume = useMutation({
    mutationFn: () => client.post<IntegrationFull>(`${integrationPath(integration.id)}/resume`),
    onSuccess: (resumed) => {
      setError(null);
      toast(`${resumed.name} resumed`, { kind: "success", description: "The connection test passed; schedules run it again." });
      void queryClient.invalidateQueries({ queryKey: keys.integrations });
    },
    onError: (failure) => setError(failure instanceof Error ? failure.message : String(failure)),
  });
  if (!integration.paused) return null;
  return (
    <div className="mt-1 text-xs" data-breaker={integration.breaker_kind ?? ""}>
      <div className="flex flex-wrap items-center gap-1.5">
        <span className="rounded bg-amber-100 px-1 font-semibold text-amber-900 dark:bg-amber-900/40 dark:text-amber-200" title={why(integration)}>
          Paused
        </span>
        <button type="button" className="btn px-1.5 py-0.5 text-xs" disabled={blocked !== null || resume.isPending}
          title={blocked ?? `Run the connection test of ${integration.name} and resume it if it passes`}
          onClick={() => resume.mutate()}>
          {resume.isPending ? "Testing…" : "Resume"}
        </button>
      </div>
      <p className="mt-0.5 break-words text-amber-900 dark:text-amber-200">{integration.breaker_reason}</p>
      {error && (
        <p role="alert" className="mt-0.5 break-words text-red-700 dark:text-red-300">
          Not resumed: {error}
        </p>
      )}
    </div>
  );
}
