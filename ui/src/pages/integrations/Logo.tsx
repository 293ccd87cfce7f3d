import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useRef, useState } from "react";
import { keys } from "../../api/cache";
import { useApi, useWriteBlocked } from "../../api/hooks";
import { LOGO_TYPES, integrationKeys, integrationPath, uploadLogo, type IntegrationFull } from "../../api/integrations";
import { IntegrationLogo } from "../../components/IntegrationName";
import { toast } from "../../components/toast";

/** Upload (PNG, JPEG, WebP; the API checks the type by content and caps the size) or remove the logo. */
export function LogoEditor({ integration }: { integration: IntegrationFull }) {
  const client = useApi();
  const queryClient = useQueryClient();
  const blocked = useWriteBlocked();
  const input = useRef<HTMLInputElement>(null);
  const [error, setError] = useState<string | null>(null);

  const done = (result: IntegrationFull | null, what: string) => {
    setError(null);
    if (result) queryClient.setQueryData(integrationKeys.one(integration.id), result);
    void queryClient.invalidateQueries({ queryKey: keys.integrations });
    toast(what, { kind: "success" });
  };
  const upload = useMutation({
    mutationFn: (file: File) => uploadLogo(client, integration.id, file),
    onSuccess: (result) => done(result, "Logo saved"),
    onError: (e) => setError(e instanceof Error ? e.message : String(e)),
    onSettled: () => {
      if (input.current) input.current.value = "";
    },
  });
  const remove = useMutation({
    mutationFn: () => client.request<null>("DELETE", `${integrationPath(integration.id)}/logo`),
    onSuccess: () => done(null, "Logo removed"),
    onError: (e) => setError(e instanceof Error ? e.message : String(e)),
  });

  return (
    <section className="panel p-4" aria-labelledby="logo-title">
      <h2 id="logo-title" className="font-semibold">Logo</h2>
      <div className="mt-2 flex flex-wrap items-center gap-3">
        <IntegrationLogo id={integration.id} updatedAt={integration.logo_updated_at} size="lg" />
        <label className="flex flex-col gap-0.5 text-xs font-medium" title={blocked ?? undefined}>
          Upload a PNG, JPEG or WebP image
          <input
            ref={input}
            type="file"
            accept={LOGO_TYPES.join(",")}
            className="text-sm"
            disabled={blocked !== null || upload.isPending}
            onChange={(event) => {
              const file = event.target.files?.[0];
              if (file) upload.mutate(file);
            }}
          />
        </label>
        {integration.logo_updated_at && (
          <button type="button" className="btn" disabled={blocked !== null || remove.isPending} title={blocked ?? "Remove the logo"} onClick={() => remove.mutate()}>
            Remove logo
          </button>
        )}
      </div>
      {upload.isPending && <p className="muted mt-1 text-xs">Uploading…</p>}
      {error && <p role="alert" className="mt-2 text-sm break-words text-red-700 dark:text-red-300">{error}</p>}
    </section>
  );
}
