// The tenant's webhooks: /api/v1/notifications/webhooks (api/schemas/notifications.py). A webhook's
// signing secret is only in the create and rotate-secret responses. Its URL is write-only (a Slack
// webhook URL lets whoever has it post to the channel): responses carry only its masked form.

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useApi } from "./hooks";

export const EVENTS = [
  ["job.failed", "A job failed"],
  ["job.partial", "A job ended with failed records"],
  ["integration.paused", "An integration was paused (circuit breaker)"],
  ["integration.recovered", "A paused integration syncs again"],
  ["integration.stale", "No completed sync for longer than a threshold"],
  ["audit.differences", "The consistency audit found differences"],
] as const;

export type EventKind = (typeof EVENTS)[number][0];
export type WebhookFormat = "json" | "slack";

export interface Webhook {
  id: string;
  name: string;
  /** The URL masked, e.g. "https://hooks.slack.com/…Xk9Q": the full URL is never returned. */
  url_display: string;
  format: WebhookFormat;
  events: string[];
  stale_after_minutes: number | null;
  enabled: boolean;
  created_at: string;
}

export interface WebhookWithSecret extends Webhook {
  secret: string;
}

export interface WebhookCreate {
  name: string;
  url: string;
  format: WebhookFormat;
  events: EventKind[];
  stale_after_minutes: number | null;
}

export interface Delivery {
  id: string;
  event: string;
  status: "pending" | "succeeded" | "failed";
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  next_attempt_at: string;
  created_at: string;
  delivered_at: string | null;
}

const BASE = "/api/v1/notifications/webhooks";
export const webhookKeys = {
  all: ["webhooks"] as const,
  deliveries: (id: string) => ["webhooks", id, "deliveries"] as const,
};
const one = (id: string) => `${BASE}/${encodeURIComponent(id)}`;

export function useWebhooks() {
  const client = useApi();
  return useQuery({ queryKey: webhookKeys.all, queryFn: ({ signal }) => client.get<Webhook[]>(BASE, undefined, signal) });
}

/** Read again every few seconds while a delivery is still pending (a test just sent, a retry). */
export function useDeliveries(id: string) {
  const client = useApi();
  return useQuery({
    queryKey: webhookKeys.deliveries(id),
    queryFn: ({ signal }) => client.get<Delivery[]>(`${one(id)}/deliveries`, { limit: 20 }, signal),
    refetchInterval: (query) => (query.state.data?.some((d) => d.status === "pending") ? 2_000 : false),
  });
}

function useWebhookMutation<T, A>(call: (arg: A) => Promise<T>, after?: (result: T, arg: A) => void) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: call,
    onSuccess: (result: T, arg: A) => {
      void queryClient.invalidateQueries({ queryKey: webhookKeys.all });
      after?.(result, arg);
    },
  });
}

/** The secret stays in the caller's hands (the response); the cached list never holds it. */
export function useCreateWebhook() {
  const client = useApi();
  return useWebhookMutation((body: WebhookCreate) => client.post<WebhookWithSecret>(BASE, body));
}

export function useRotateSecret() {
  const client = useApi();
  return useWebhookMutation((id: string) => client.post<WebhookWithSecret>(`${one(id)}/rotate-secret`));
}

export function useDeleteWebhook() {
  const client = useApi();
  return useWebhookMutation((id: string) => client.request<Webhook>("DELETE", one(id)));
}

export function useSetEnabled() {
  const client = useApi();
  return useWebhookMutation(({ id, enabled }: { id: string; enabled: boolean }) =>
    client.request<Webhook>("PATCH", one(id), { body: { enabled } }),
  );
}

export function useTestWebhook() {
  const client = useApi();
  const queryClient = useQueryClient();
  return useWebhookMutation(
    (id: string) => client.post<Delivery>(`${one(id)}/test`),
    (_delivery, id) => void queryClient.invalidateQueries({ queryKey: webhookKeys.deliveries(id) }),
  );
}
