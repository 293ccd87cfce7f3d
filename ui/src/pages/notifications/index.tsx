import { Route, Routes } from "react-router";
import { NotFound } from "../NotFound";
import { NotificationsPage } from "./NotificationsPage";

/** Notifications: every route under /notifications (lazy-loaded by App). */
export default function NotificationsArea() {
  return (
    <Routes>
      <Route index element={<NotificationsPage />} />
      <Route path="*" element={<NotFound />} />
    </Routes>
  );
}
