import { Route, Routes } from "react-router";
import { NotFound } from "../NotFound";

function QueuesPage() {
  return (
    <div>
      <h1 className="text-xl font-semibold">Queues</h1>
      <p className="muted mt-2 text-sm">This page is coming in the next step of the console.</p>
    </div>
  );
}

/** Queues: every route under /queues (lazy-loaded by App). */
export default function QueuesArea() {
  return (
    <Routes>
      <Route index element={<QueuesPage />} />
      <Route path="*" element={<NotFound />} />
    </Routes>
  );
}
