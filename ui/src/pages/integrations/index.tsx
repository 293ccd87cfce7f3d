import { Route, Routes } from "react-router";
import { NotFound } from "../NotFound";

function IntegrationsPage() {
  return (
    <div>
      <h1 className="text-xl font-semibold">Integrations</h1>
      <p className="muted mt-2 text-sm">This page is coming in the next step of the console.</p>
    </div>
  );
}

/** Integrations: every route under /integrations (lazy-loaded by App). */
export default function IntegrationsArea() {
  return (
    <Routes>
      <Route index element={<IntegrationsPage />} />
      <Route path="*" element={<NotFound />} />
    </Routes>
  );
}
