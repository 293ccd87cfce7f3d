import { Route, Routes } from "react-router";
import { NotFound } from "../NotFound";

function MappingsPage() {
  return (
    <div>
      <h1 className="text-xl font-semibold">Mappings</h1>
      <p className="muted mt-2 text-sm">This page is coming in the next step of the console.</p>
    </div>
  );
}

/** Mappings: every route under /mappings (lazy-loaded by App). */
export default function MappingsArea() {
  return (
    <Routes>
      <Route index element={<MappingsPage />} />
      <Route path="*" element={<NotFound />} />
    </Routes>
  );
}
