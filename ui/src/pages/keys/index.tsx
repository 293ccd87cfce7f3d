import { Route, Routes } from "react-router";
import { NotFound } from "../NotFound";

function KeysPage() {
  return (
    <div>
      <h1 className="text-xl font-semibold">API keys</h1>
      <p className="muted mt-2 text-sm">This page is coming in the next step of the console.</p>
    </div>
  );
}

/** API keys: every route under /keys (lazy-loaded by App). */
export default function KeysArea() {
  return (
    <Routes>
      <Route index element={<KeysPage />} />
      <Route path="*" element={<NotFound />} />
    </Routes>
  );
}
