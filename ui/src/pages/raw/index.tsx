import { Route, Routes } from "react-router";
import { NotFound } from "../NotFound";

function RawPage() {
  return (
    <div>
      <h1 className="text-xl font-semibold">Raw data</h1>
      <p className="muted mt-2 text-sm">This page is coming in the next step of the console.</p>
    </div>
  );
}

/** Raw data: every route under /raw (lazy-loaded by App). */
export default function RawArea() {
  return (
    <Routes>
      <Route index element={<RawPage />} />
      <Route path="*" element={<NotFound />} />
    </Routes>
  );
}
