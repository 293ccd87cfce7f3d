import { Route, Routes } from "react-router";
import { NotFound } from "../NotFound";
import { IntegrationDetail } from "./Detail";
import { IntegrationList } from "./List";
import { NewIntegration } from "./New";

/** Integrations: every route under /integrations (lazy-loaded by App). */
export default function IntegrationsArea() {
  return (
    <Routes>
      <Route index element={<IntegrationList />} />
      <Route path="new" element={<NewIntegration />} />
      <Route path=":id" element={<IntegrationDetail />} />
      <Route path="*" element={<NotFound />} />
    </Routes>
  );
}
