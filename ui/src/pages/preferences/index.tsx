import { Route, Routes } from "react-router";
import { NotFound } from "../NotFound";
import { PreferencesPage } from "./PreferencesPage";

/** Preferences: every route under /preferences (lazy-loaded by App). */
export default function PreferencesArea() {
  return (
    <Routes>
      <Route index element={<PreferencesPage />} />
      <Route path="*" element={<NotFound />} />
    </Routes>
  );
}
