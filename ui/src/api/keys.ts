// The tenant's API keys: GET/POST /api/v1/api-keys, DELETE /api/v1/api-keys/{id} (api/schemas/api_keys.py).

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useApi } from "./hooks";

export type Scope = "read" | "write";

export interface ApiKey {
  id: string;
  name: string;
  /** The secret's first characters, to recognise it; never the secret. */
  prefix: string;
  is_admin: boolean;
  scopes: Scope[];
  created_at: string;
  revoked_at: string | null;
}

/** Only the create response carries the secret, once. */
export interface ApiKeyCreated extends ApiKey {
  key: string;
}

export interface ApiKeyCreate {
  name: string;
  scopes: Scope[];
}

export const apiKeysKey = ["api-keys"] as const;

export function useApiKeys() {
  const client = useApi();
  return useQuery({
    queryKey: apiKeysKey,
    queryFn: ({ signal }) => client.get<ApiKey[]>("/api/v1/api-keys", undefined, signal),
  });
}

/** The secret stays in the caller's hands (the response): the cache keeps the key without it. */
export function useCreateApiKey() {
  const client = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: ApiKeyCreate) => client.post<ApiKeyCreated>("/api/v1/api-keys", body),
    onSuccess: (created) => {
      const { key: _secret, ...listed } = created;
      queryClient.setQueryData<ApiKey[]>(apiKeysKey, (old) => (old ? [listed, ...old.filter((k) => k.id !== listed.id)] : old));
      void queryClient.invalidateQueries({ queryKey: apiKeysKey });
    },
  });
}

export function useRevokeApiKey() {
  const client = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => client.request<ApiKey>("DELETE", `/api/v1/api-keys/${encodeURIComponent(id)}`),
    onSuccess: (revoked) => {
      queryClient.setQueryData<ApiKey[]>(apiKeysKey, (old) => old?.map((k) => (k.id === revoked.id ? revoked : k)));
    },
  });
}
