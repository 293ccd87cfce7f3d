import { Route, Routes } from "react-router";
import { NotFound } from "../NotFound";
import { KeysPage } from "./KeysPage";

/** API keys: every route under /keys (lazy-loaded by App). */
export default function KeysArea() {
  return (
    <Routes>
      <Route index element={<KeysPage />} />
      <Route path="*" element={<NotFound />} />
    </Routes>
  );
}
