// An integration's name with its logo beside it, everywhere the console names one. The logo is
// fetched with the key (fetch -> Blob -> object URL), cached by (id, logo_updated_at), and its
// object URL is revoked when that cache entry goes (replaced by a newer logo, unused for a while, or
// sign-out). The bytes only ever reach an <img src>, never HTML.

import { useQuery, useQueryClient, type QueryCache } from "@tanstack/react-query";
import { useEffect } from "react";
import { fetchLogo, integrationKeys, type IntegrationFull } from "../api/integrations";
import { useApi, useIntegrations } from "../api/hooks";

const watched = new WeakSet<QueryCache>();

/** Revoke a logo's object URL when its query leaves the cache. */
function revokeOnRemoval(cache: QueryCache) {
  if (watched.has(cache)) return;
  watched.add(cache);
  cache.subscribe((event) => {
    if (event.type !== "removed" || event.query.queryKey[0] !== "integration-logo") return;
    const url = event.query.state.data;
    if (typeof url === "string") URL.revokeObjectURL(url);
  });
}

/** The object URL of the integration's logo, or null (none, or not loaded yet). */
export function useLogoUrl(id: string, updatedAt: string | null | undefined): string | null {
  const client = useApi();
  const queryClient = useQueryClient();
  const cache = queryClient.getQueryCache();
  useEffect(() => revokeOnRemoval(cache), [cache]);
  const logo = useQuery({
    queryKey: integrationKeys.logo(id, updatedAt ?? ""),
    queryFn: async ({ signal }) => {
      revokeOnRemoval(cache);
      // An older version of this logo is of no more use: its entry goes, and its URL with it.
      for (const old of cache.findAll({ queryKey: ["integration-logo", id] })) {
        if (old.queryKey[2] !== updatedAt) queryClient.removeQueries({ queryKey: old.queryKey, exact: true });
      }
      return URL.createObjectURL(await fetchLogo(client, id, signal));
    },
    enabled: Boolean(updatedAt),
    staleTime: Infinity,
    gcTime: 10 * 60_000,
    retry: false,
  });
  return logo.data ?? null;
}

export function IntegrationLogo({ id, updatedAt, size = "sm" }: { id: string; updatedAt: string | null | undefined; size?: "sm" | "lg" }) {
  const url = useLogoUrl(id, updatedAt);
  const box = size === "lg" ? "size-10" : "size-5";
  if (!url) return <span aria-hidden="true" className={`${box} inline-block shrink-0 rounded bg-slate-200 dark:bg-slate-700`} />;
  return <img src={url} alt="" data-testid="integration-logo" className={`${box} shrink-0 rounded object-contain`} />;
}

type Props =
  | { integration: Pick<IntegrationFull, "id" | "name" | "logo_updated_at">; id?: never; fallback?: never }
  | { id: string; integration?: never; fallback?: string };

/** Logo and name of an integration, given as an object or by id (read from the tenant's list). */
export function IntegrationName(props: Props) {
  const list = useIntegrations();
  const id = props.integration?.id ?? props.id!;
  const found = props.integration ?? (list.data as IntegrationFull[] | undefined)?.find((item) => item.id === id);
  const name = found?.name ?? props.fallback ?? `${id.slice(0, 8)}…`;
  return (
    <span className="inline-flex max-w-full min-w-0 items-center gap-1.5 align-middle" title={name}>
      <IntegrationLogo id={id} updatedAt={found?.logo_updated_at} />
      <span className="truncate">{name}</span>
    </span>
  );
}
