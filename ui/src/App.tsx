import { QueryClient, QueryClientProvider, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import { BrowserRouter, Route, Routes, useLocation } from "react-router";
import { keys } from "./api/cache";
import { ApiError, type ApiClient } from "./api/client";
import { ApiContext, MeContext, useApi } from "./api/hooks";
import { session, useSession } from "./api/session";
import type { Me } from "./api/types";
import { ErrorBoundary } from "./components/ErrorBoundary";
import { Shell } from "./components/Shell";
import { ErrorState, Loading } from "./components/States";
import { clearToasts, Toasts } from "./components/toast";
import { Home } from "./pages/Home";
import { JobDetail } from "./pages/JobDetail";
import { Jobs } from "./pages/Jobs";
import { NotFound } from "./pages/NotFound";
import { SignIn } from "./pages/SignIn";

export function makeQueryClient() {
  return new QueryClient({
    defaultOptions: {
      queries: {
        // 401 signs out and 403/404/422 will not change: retry only what may pass next time.
        retry: (count, error) => count < 2 && !(error instanceof ApiError && error.status >= 400 && error.status < 500),
        refetchOnWindowFocus: true,
        staleTime: 2_000,
      },
      mutations: { retry: false },
    },
  });
}

function Pages() {
  const location = useLocation();
  return (
    <ErrorBoundary key={location.pathname}>
      <Routes>
        <Route path="/" element={<Home />} />
        <Route path="/jobs" element={<Jobs />} />
        <Route path="/jobs/:id" element={<JobDetail />} />
        <Route path="*" element={<NotFound />} />
      </Routes>
    </ErrorBoundary>
  );
}

/** Who the key belongs to (GET /api/v1/auth/me), before any page. */
function SignedIn() {
  const client = useApi();
  const me = useQuery({
    queryKey: keys.me,
    queryFn: ({ signal }) => client.get<Me>("/api/v1/auth/me", undefined, signal),
    staleTime: 5 * 60_000,
  });
  if (me.isPending) return <Loading what="your tenant" />;
  if (me.isError) {
    return (
      <div className="mx-auto mt-16 max-w-lg px-5">
        <ErrorState title="Could not check your key" error={me.error} onRetry={() => void me.refetch()} />
        <button type="button" className="btn mt-3" onClick={() => session.signOut(null)}>
          Sign out
        </button>
      </div>
    );
  }
  return (
    <MeContext.Provider value={me.data}>
      <Shell>
        <Pages />
      </Shell>
    </MeContext.Provider>
  );
}

function Gate() {
  const { token } = useSession();
  const queryClient = useQueryClient();
  useEffect(() => {
    // Signed out: nothing of this tenant stays in memory for the next key, which may be another tenant's.
    if (!token) {
      queryClient.clear();
      clearToasts();
    }
  }, [token, queryClient]);
  return token ? <SignedIn key={token} /> : <SignIn />;
}

export function App({ client, queryClient }: { client: ApiClient; queryClient: QueryClient }) {
  return (
    <ErrorBoundary>
      <ApiContext.Provider value={client}>
        <QueryClientProvider client={queryClient}>
          <BrowserRouter>
            <Gate />
          </BrowserRouter>
          <Toasts />
        </QueryClientProvider>
      </ApiContext.Provider>
    </ErrorBoundary>
  );
}
