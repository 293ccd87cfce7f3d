import { Route, Routes } from "react-router";
import { NotFound } from "../NotFound";

function DataPage() {
  return (
    <div>
      <h1 className="text-xl font-semibold">Data</h1>
      <p className="muted mt-2 text-sm">This page is coming in the next step of the console.</p>
    </div>
  );
}

/** Data: every route under /data (lazy-loaded by App). */
export default function DataArea() {
  return (
    <Routes>
      <Route index element={<DataPage />} />
      <Route path="*" element={<NotFound />} />
    </Routes>
  );
}
