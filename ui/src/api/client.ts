// The one way the console calls the API: only /api/v1 paths, with `Authorization: Bearer <key>`, the
// API's own message on errors, and a 401 that ends the session (back to sign-in with that message).

export const API_PREFIX = "/api/v1/";

export class ApiError extends Error {
  readonly status: number;
  readonly body: unknown;

  constructor(status: number, message: string, body: unknown = null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.body = body;
  }
}

/** FastAPI's `{"detail": "..."}`, or its list of field errors, in one sentence. */
export function detailOf(body: unknown, status: number): string {
  if (body && typeof body === "object" && "detail" in body) {
    const detail = (body as { detail: unknown }).detail;
    if (typeof detail === "string" && detail) return detail;
    if (Array.isArray(detail)) {
      const parts = detail.map((item) => {
        const error = item as { loc?: unknown[]; msg?: string };
        const where = (error.loc ?? []).filter((part) => part !== "body" && part !== "query").join(".");
        return where ? `${where}: ${error.msg ?? "invalid"}` : (error.msg ?? "invalid");
      });
      if (parts.length) return parts.join("; ");
    }
  }
  return status ? `the API answered HTTP ${status}` : "the API did not answer";
}

export type Query = Record<string, string | number | readonly string[] | undefined | null>;

export function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === "") continue;
    if (Array.isArray(value)) for (const item of value) params.append(name, String(item));
    else params.append(name, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

export interface ApiClientOptions {
  getToken: () => string | null;
  /** Called with the API's message when it answers 401: the key is wrong, revoked or expired. */
  onUnauthorized: (message: string) => void;
  fetch?: typeof fetch;
}

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  signal?: AbortSignal;
  /** Use this token instead of the session's (sign-in checks a key before keeping it). */
  token?: string;
}

export class ApiClient {
  private readonly options: ApiClientOptions;

  constructor(options: ApiClientOptions) {
    this.options = options;
  }

  /** Headers for a call to the API: the key goes to /api/v1 only. */
  authHeaders(path: string, token?: string): Record<string, string> {
    if (!path.startsWith(API_PREFIX)) throw new Error(`not an API path: ${path}`);
    const key = token ?? this.options.getToken();
    if (!key) throw new ApiError(401, "not signed in");
    return { Authorization: `Bearer ${key}` };
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const headers: Record<string, string> = { Accept: "application/json", ...this.authHeaders(path, options.token) };
    const init: RequestInit = { method, headers, cache: "no-store", credentials: "omit", signal: options.signal };
    if (options.body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(options.body);
    }
    const doFetch = this.options.fetch ?? globalThis.fetch.bind(globalThis);
    let response: Response;
    try {
      response = await doFetch(withQuery(path, options.query), init);
    } catch (error) {
      if (error instanceof DOMException && error.name === "AbortError") throw error;
      throw new ApiError(0, `cannot reach the API (${error instanceof Error ? error.message : String(error)})`);
    }
    const text = await response.text();
    let body: unknown = null;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    if (!response.ok) {
      const message = detailOf(body, response.status);
      // A key checked at sign-in is not the session's yet: its 401 is the sign-in form's to show.
      if (response.status === 401 && options.token === undefined) this.options.onUnauthorized(message);
      throw new ApiError(response.status, message, body);
    }
    return body as T;
  }

  get<T>(path: string, query?: Query, signal?: AbortSignal): Promise<T> {
    return this.request<T>("GET", path, { query, signal });
  }

  post<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>("POST", path, { body });
  }
}
