import { Route, Routes } from "react-router";
import { NotFound } from "../NotFound";

function PreferencesPage() {
  return (
    <div>
      <h1 className="text-xl font-semibold">Preferences</h1>
      <p className="muted mt-2 text-sm">This page is coming in the next step of the console.</p>
    </div>
  );
}

/** Preferences: every route under /preferences (lazy-loaded by App). */
export default function PreferencesArea() {
  return (
    <Routes>
      <Route index element={<PreferencesPage />} />
      <Route path="*" element={<NotFound />} />
    </Routes>
  );
}
