// Add or edit an integration. "Test connection" asks the source (nothing is saved); Save is enabled
// only after a passing test of exactly the values on screen. Tokens are write-only: never prefilled.

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useId, useState, type ReactNode } from "react";
import { useNavigate } from "react-router";
import { keys } from "../../api/cache";
import { useApi, useWriteBlocked } from "../../api/hooks";
import {
  GITHUB_API,
  PATH,
  PROVIDER_CHOICES,
  integrationPath,
  type ConnectionTest,
  type IntegrationFull,
  type ProviderChoice,
} from "../../api/integrations";
import { toast } from "../../components/toast";
import {
  changesOf,
  checkValues,
  createBody,
  emptyValues,
  fingerprint,
  hostChanged,
  isJira,
  valuesOf,
  type FormValues,
} from "./form";

function Field(props: { label: string; error?: string; hint?: ReactNode; children: (id: string, describedBy: string | undefined) => ReactNode }) {
  const id = useId();
  const hintId = `${id}-hint`;
  return (
    <div className="flex flex-col gap-0.5">
      <label htmlFor={id} className="text-xs font-medium">
        {props.label}
      </label>
      {props.children(id, props.error || props.hint ? hintId : undefined)}
      {props.error ? (
        <p id={hintId} className="text-xs text-red-700 dark:text-red-300">{props.error}</p>
      ) : props.hint ? (
        <p id={hintId} className="muted text-xs">{props.hint}</p>
      ) : null}
    </div>
  );
}

function TestResult({ result }: { result: ConnectionTest }) {
  if (!result.ok) {
    return (
      <div role="alert" data-testid="connection-test" className="rounded-md border border-red-300 bg-red-50 p-3 text-sm text-red-900 dark:border-red-800 dark:bg-red-950 dark:text-red-100">
        <p className="font-semibold">The source refused</p>
        <p className="mt-1 break-words">{result.error}</p>
      </div>
    );
  }
  return (
    <div role="status" data-testid="connection-test" className="rounded-md border border-green-600/40 bg-green-50 p-3 text-sm text-green-900 dark:bg-green-950 dark:text-green-100">
      <p className="font-semibold">Connection works{result.account ? ` as ${result.account}` : ""}</p>
      {result.checked && result.checked.length > 0 && (
        <ul className="mt-1 list-inside list-disc">
          {result.checked.map((item) => (
            <li key={item}>{item} ✓</li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function IntegrationForm({ saved }: { saved?: IntegrationFull }) {
  const client = useApi();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const blocked = useWriteBlocked();
  const [values, setValues] = useState<FormValues>(() => (saved ? valuesOf(saved) : emptyValues()));
  const [showErrors, setShowErrors] = useState(false);
  const [tested, setTested] = useState<{ for: string; result: ConnectionTest } | null>(null);
  const [apiError, setApiError] = useState<string | null>(null);

  const errors = checkValues(values, saved);
  const valid = Object.keys(errors).length === 0;
  const current = fingerprint(values);
  const passed = tested !== null && tested.for === current && tested.result.ok;
  const changes = saved ? changesOf(values, saved) : null;
  const unchanged = changes !== null && Object.keys(changes).length === 0;

  const set = (name: keyof FormValues, value: string) => {
    setValues((old) => ({ ...old, [name]: value }));
    setApiError(null);
  };
  const choose = (choice: ProviderChoice) =>
    setValues((old) => ({
      ...old,
      choice,
      // github.com's API by default; never carried over to a Jira form.
      base_url: choice === "github" && !old.base_url ? GITHUB_API : choice !== "github" && old.base_url === GITHUB_API ? "" : old.base_url,
    }));

  const test = useMutation({
    mutationFn: (snapshot: FormValues) => {
      if (!saved) return client.post<ConnectionTest>(`${PATH}/test`, createBody(snapshot));
      const { name: _name, ...body } = changesOf(snapshot, saved);
      return client.post<ConnectionTest>(`${integrationPath(saved.id)}/test`, body);
    },
    onMutate: () => setApiError(null),
    onSuccess: (result, snapshot) => setTested({ for: fingerprint(snapshot), result }),
    onError: (error) => {
      setTested(null);
      setApiError(error instanceof Error ? error.message : String(error));
    },
  });
  const save = useMutation({
    mutationFn: () =>
      saved
        ? client.request<IntegrationFull>("PATCH", integrationPath(saved.id), { body: changesOf(values, saved) })
        : client.post<IntegrationFull>(PATH, createBody(values)),
    onSuccess: (result) => {
      void queryClient.invalidateQueries({ queryKey: keys.integrations });
      if (saved) {
        queryClient.setQueryData([...keys.integrations, "one", saved.id], result);
        setValues(valuesOf(result));
        setTested(null);
        toast(`${result.name} saved`, { kind: "success" });
      } else {
        toast(`${result.name} added`, { kind: "success" });
        void navigate(`/integrations/${result.id}`);
      }
    },
    onError: (error) => setApiError(error instanceof Error ? error.message : String(error)),
  });

  const runTest = () => {
    setShowErrors(true);
    if (valid) test.mutate(values);
  };
  const shownErrors = showErrors ? errors : {};
  const stored = saved?.has_credentials ? "stored (leave empty to keep it)" : undefined;
  const jira = isJira(values.choice);

  return (
    <form
      className="panel space-y-4 p-4"
      aria-label={saved ? `Edit ${saved.name}` : "New integration"}
      noValidate
      onSubmit={(event) => {
        event.preventDefault();
        if (passed && !save.isPending) save.mutate();
      }}
    >
      <fieldset disabled={blocked !== null} className="space-y-4">
        {saved ? (
          <p className="text-sm">
            <span className="muted">Provider </span>
            {PROVIDER_CHOICES.find(([choice]) => choice === values.choice)?.[1]}
          </p>
        ) : (
          <div role="radiogroup" aria-label="Provider" className="flex flex-wrap gap-2">
            {PROVIDER_CHOICES.map(([choice, label]) => (
              <label key={choice} className={`btn cursor-pointer ${values.choice === choice ? "btn-primary" : ""}`}>
                <input type="radio" name="provider" value={choice} className="sr-only" checked={values.choice === choice} onChange={() => choose(choice)} />
                {label}
              </label>
            ))}
          </div>
        )}
        <div className="grid gap-3 md:grid-cols-2">
          <Field label="Name" error={shownErrors.name}>
            {(id, hint) => <input id={id} aria-describedby={hint} className="field" value={values.name} maxLength={200} onChange={(e) => set("name", e.target.value)} />}
          </Field>
          <Field
            label="Base URL"
            error={shownErrors.base_url}
            hint={
              values.choice === "github"
                ? "https://api.github.com, or https://HOST/api/v3 for GitHub Enterprise"
                : values.choice === "jira-cloud" ? "e.g. https://yourcompany.atlassian.net" : "e.g. https://jira.example.com"
            }
          >
            {(id, hint) => <input id={id} aria-describedby={hint} className="field" type="url" value={values.base_url} onChange={(e) => set("base_url", e.target.value)} />}
          </Field>
          {values.choice === "jira-cloud" && (
            <Field label="Email" error={shownErrors.email} hint={stored && "stored with the token: enter it again only with a new token"}>
              {(id, hint) => <input id={id} aria-describedby={hint} className="field" type="email" autoComplete="off" value={values.email} onChange={(e) => set("email", e.target.value)} />}
            </Field>
          )}
          <Field
            label={values.choice === "jira-cloud" ? "API token" : values.choice === "jira-dc" ? "Personal access token" : "Token"}
            error={shownErrors.token ?? (saved && hostChanged(values, saved) && !values.token ? "the base URL is on a new host: enter the credentials for it" : undefined)}
            hint={stored}
          >
            {(id, hint) => (
              <input id={id} aria-describedby={hint} className="field" type="password" autoComplete="off" placeholder={saved?.has_credentials ? "stored" : ""}
                value={values.token} onChange={(e) => set("token", e.target.value)} />
            )}
          </Field>
          {jira ? (
            <>
              <Field label="Projects" error={shownErrors.projects} hint="project keys, separated by commas, e.g. ABC, OPS">
                {(id, hint) => <input id={id} aria-describedby={hint} className="field" value={values.projects} onChange={(e) => set("projects", e.target.value)} />}
              </Field>
              <Field label="Story points field" error={shownErrors.story_points_field} hint="optional, e.g. customfield_10016">
                {(id, hint) => <input id={id} aria-describedby={hint} className="field" value={values.story_points_field} onChange={(e) => set("story_points_field", e.target.value)} />}
              </Field>
              <Field label="JQL" hint="optional extra filter, e.g. labels = backend">
                {(id, hint) => <input id={id} aria-describedby={hint} className="field" value={values.jql} onChange={(e) => set("jql", e.target.value)} />}
              </Field>
            </>
          ) : (
            <>
              <Field label="Repositories" error={shownErrors.repos} hint="owner/name, separated by commas">
                {(id, hint) => <input id={id} aria-describedby={hint} className="field" value={values.repos} onChange={(e) => set("repos", e.target.value)} />}
              </Field>
              <Field label="Bot patterns" error={shownErrors.bot_patterns} hint="one RE2 regular expression per line (default \[bot\]$)">
                {(id, hint) => <textarea id={id} aria-describedby={hint} rows={3} className="field font-mono" value={values.bot_patterns} onChange={(e) => set("bot_patterns", e.target.value)} />}
              </Field>
            </>
          )}
        </div>
      </fieldset>

      {apiError && (
        <p role="alert" className="rounded-md border border-red-300 bg-red-50 p-3 text-sm break-words text-red-900 dark:border-red-800 dark:bg-red-950 dark:text-red-100">
          {apiError}
        </p>
      )}
      {tested && tested.for === current && <TestResult result={tested.result} />}
      {tested && tested.for !== current && <p className="muted text-xs">The values changed since the last test: test them again before saving.</p>}

      <div className="flex flex-wrap items-center gap-2">
        <button type="button" className="btn" disabled={blocked !== null || test.isPending} title={blocked ?? "Ask the source whether these values work; nothing is saved"} onClick={runTest}>
          {test.isPending ? "Testing…" : "Test connection"}
        </button>
        <button
          type="submit"
          className="btn btn-primary"
          disabled={blocked !== null || !passed || save.isPending || unchanged}
          title={blocked ?? (unchanged ? "nothing changed" : passed ? undefined : "test the connection first: Save is enabled after a passing test of these values")}
        >
          {save.isPending ? "Saving…" : saved ? "Save changes" : "Save"}
        </button>
        {!passed && !blocked && <span className="muted text-xs">Save is enabled after a passing connection test of these values.</span>}
      </div>
    </form>
  );
}
