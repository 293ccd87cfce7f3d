import { Navigate, Route, Routes } from "react-router";
import { NotFound } from "../NotFound";
import { PullRequestPage } from "./PullRequestPage";
import { PullRequests } from "./PullRequests";
import { WorkItemPage } from "./WorkItemPage";
import { WorkItems } from "./WorkItems";

/** Data: every route under /data (lazy-loaded by App). /data itself shows the work items. */
export default function DataArea() {
  return (
    <Routes>
      <Route index element={<Navigate to="work-items" replace />} />
      <Route path="work-items" element={<WorkItems />} />
      <Route path="work-items/:key" element={<WorkItemPage />} />
      <Route path="pull-requests" element={<PullRequests />} />
      <Route path="pull-requests/:owner/:name/:number" element={<PullRequestPage />} />
      <Route path="*" element={<NotFound />} />
    </Routes>
  );
}
