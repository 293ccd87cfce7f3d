import { QueryClient, QueryClientProvider, useQuery, useQueryClient } from "@tanstack/react-query";
import { lazy, Suspense, useEffect } from "react";
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

// Each area is its own chunk, fetched when first visited: the first screen loads only the shell,
// Home and Jobs.
const Integrations = lazy(() => import("./pages/integrations"));
const Mappings = lazy(() => import("./pages/mappings"));
const RawData = lazy(() => import("./pages/raw"));
const Data = lazy(() => import("./pages/data"));
const Queues = lazy(() => import("./pages/queues"));
const Keys = lazy(() => import("./pages/keys"));
const Notifications = lazy(() => import("./pages/notifications"));
const Preferences = lazy(() => import("./pages/preferences"));

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
      <Suspense fallback={<Loading what="the page" />}>
        <Routes>
          <Route path="/" element={<Home />} />
          <Route path="/integrations/*" element={<Integrations />} />
          <Route path="/mappings/*" element={<Mappings />} />
          <Route path="/jobs" element={<Jobs />} />
          <Route path="/jobs/:id" element={<JobDetail />} />
          <Route path="/raw/*" element={<RawData />} />
          <Route path="/data/*" element={<Data />} />
          <Route path="/queues/*" element={<Queues />} />
          <Route path="/keys/*" element={<Keys />} />
          <Route path="/notifications/*" element={<Notifications />} />
          <Route path="/preferences/*" element={<Preferences />} />
          <Route path="*" element={<NotFound />} />
        </Routes>
      </Suspense>
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
