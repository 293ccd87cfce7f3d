import { Route, Routes } from "react-router";
import { NotFound } from "../NotFound";
import { QueuesPage } from "./QueuesPage";

/** Queues: every route under /queues (lazy-loaded by App). */
export default function QueuesArea() {
  return (
    <Routes>
      <Route index element={<QueuesPage />} />
      <Route path="*" element={<NotFound />} />
    </Routes>
  );
}
