import { useState, type FormEvent } from "react";
import { useMe, useWriteBlocked } from "../../api/hooks";
import { useApiKeys, useCreateApiKey, useRevokeApiKey, type ApiKey, type ApiKeyCreated, type Scope } from "../../api/keys";
import { session } from "../../api/session";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { QueryPanel, Table } from "../../components/DataTable";
import { toast } from "../../components/toast";
import { dateTime } from "../../lib/format";
import { SecretPanel } from "./SecretPanel";

const ACCESS: Record<string, Scope[]> = { write: ["read", "write"], read: ["read"] };

function CreateForm({ onCreated }: { onCreated: (created: ApiKeyCreated) => void }) {
  const blocked = useWriteBlocked();
  const create = useCreateApiKey();
  const [name, setName] = useState("");
  const [access, setAccess] = useState<"write" | "read">("write");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate(
      { name: name.trim(), scopes: ACCESS[access]! },
      {
        onSuccess: (created) => {
          setName("");
          onCreated(created);
        },
      },
    );
  };
  return (
    <form className="panel flex flex-wrap items-end gap-3 p-4" onSubmit={submit} aria-label="Create a key">
      <label className="flex flex-col gap-0.5 text-xs font-medium">
        Name
        <input
          className="field w-64"
          value={name}
          required
          maxLength={200}
          placeholder="e.g. ci-dashboard"
          onChange={(event) => setName(event.target.value)}
        />
      </label>
      <label className="flex flex-col gap-0.5 text-xs font-medium">
        Access
        <select className="field" value={access} onChange={(event) => setAccess(event.target.value as "write" | "read")}>
          <option value="write">Read and write</option>
          <option value="read">Read only</option>
        </select>
      </label>
      <button
        type="submit"
        className="btn btn-primary"
        disabled={blocked !== null || create.isPending || !name.trim()}
        title={blocked ?? undefined}
      >
        {create.isPending ? "Creating…" : "Create key"}
      </button>
      {create.isError && (
        <p role="alert" className="w-full text-sm text-red-700 dark:text-red-300">
          {create.error.message}
        </p>
      )}
    </form>
  );
}

function scopesText(key: ApiKey): string {
  if (key.is_admin) return "admin, read and write";
  return key.scopes.includes("write") ? "read and write" : "read only";
}

function KeyRow({ apiKey, current, onRevoke }: { apiKey: ApiKey; current: boolean; onRevoke: (key: ApiKey) => void }) {
  const me = useMe();
  const blocked = useWriteBlocked();
  const why = blocked ?? (apiKey.is_admin && !me.is_admin ? "only an admin key can revoke an admin key" : null);
  return (
    <tr className="border-t border-slate-100 dark:border-slate-800" data-key={apiKey.id}>
      <td className="td">
        <div className="truncate font-medium" title={apiKey.name}>
          {apiKey.name}
        </div>
        {current && (
          <span className="rounded bg-blue-100 px-1.5 py-0.5 text-xs font-medium text-blue-900 dark:bg-blue-900/40 dark:text-blue-200">
            this key
          </span>
        )}
      </td>
      <td className="td font-mono text-xs">{apiKey.prefix}…</td>
      <td className="td">{scopesText(apiKey)}</td>
      <td className="td text-xs">{dateTime(apiKey.created_at)}</td>
      <td className="td text-xs">
        {apiKey.revoked_at ? (
          <span className="font-medium text-red-700 dark:text-red-300" title={dateTime(apiKey.revoked_at)}>
            revoked {dateTime(apiKey.revoked_at)}
          </span>
        ) : (
          <span className="text-green-700 dark:text-green-300">active</span>
        )}
      </td>
      <td className="td">
        {!apiKey.revoked_at && (
          <button
            type="button"
            className="btn btn-danger"
            disabled={why !== null}
            title={why ?? undefined}
            aria-label={`Revoke key ${apiKey.name}`}
            onClick={() => onRevoke(apiKey)}
          >
            Revoke
          </button>
        )}
      </td>
    </tr>
  );
}

const KEY_COLUMNS = [
  { header: "Name" },
  { header: "Key", width: "w-32" },
  { header: "Access", width: "w-44" },
  { header: "Created", width: "w-52" },
  { header: "Status", width: "w-60" },
  { header: <span className="sr-only">Actions</span>, width: "w-28" },
];

export function KeysPage() {
  const me = useMe();
  const keys = useApiKeys();
  const revoke = useRevokeApiKey();
  const [created, setCreated] = useState<ApiKeyCreated | null>(null);
  const [confirming, setConfirming] = useState<ApiKey | null>(null);
  const own = confirming !== null && confirming.id === me.key_id;

  const doRevoke = () => {
    if (!confirming) return;
    const target = confirming;
    revoke.mutate(target.id, {
      onSuccess: () => {
        setConfirming(null);
        if (target.id === me.key_id) {
          session.signOut(`You revoked the key you were signed in with (“${target.name}”): sign in with another key.`);
          return;
        }
        toast(`Key “${target.name}” revoked`, { kind: "success", description: "It is refused from now on." });
      },
      onError: (error) => {
        setConfirming(null);
        toast("Could not revoke the key", { kind: "error", description: error.message });
      },
    });
  };

  return (
    <div>
      <h1 className="text-xl font-semibold">API keys</h1>
      <p className="muted mt-1 text-sm">
        Keys of tenant {me.tenant_name}. A key's secret is shown once, when it is created; the list shows only its first
        characters.
      </p>
      <div className="mt-4 flex flex-col gap-3">
        {created && <SecretPanel name={created.name} secret={created.key} onDone={() => setCreated(null)} />}
        <CreateForm onCreated={setCreated} />
      </div>
      <QueryPanel className="mt-4" query={keys} what="the keys" count={keys.data?.length ?? 0} empty="No key yet.">
        <Table columns={KEY_COLUMNS}>
              {(keys.data ?? []).map((apiKey) => (
                <KeyRow key={apiKey.id} apiKey={apiKey} current={apiKey.id === me.key_id} onRevoke={setConfirming} />
              ))}
        </Table>
      </QueryPanel>
      <p className="muted mt-2 text-xs">The API does not record when a key was last used.</p>
      <ConfirmDialog
        open={confirming !== null}
        title={`Revoke key “${confirming?.name ?? ""}”?`}
        confirmLabel={own ? "Revoke and sign out" : "Revoke the key"}
        danger
        busy={revoke.isPending}
        onConfirm={doRevoke}
        onCancel={() => setConfirming(null)}
      >
        <p>Anything using it gets 401 from then on. This cannot be undone.</p>
        {own && (
          <p className="mt-2 font-semibold text-red-700 dark:text-red-300" role="alert">
            This is the key you are signed in with: you will be signed out.
          </p>
        )}
      </ConfirmDialog>
    </div>
  );
}
