import { Route, Routes } from "react-router";
import { NotFound } from "../NotFound";
import { RawDetail } from "./RawDetail";
import { RawList } from "./RawList";

/** Raw data: every route under /raw (lazy-loaded by App). */
export default function RawArea() {
  return (
    <Routes>
      <Route index element={<RawList />} />
      <Route path=":id" element={<RawDetail />} />
      <Route path="*" element={<NotFound />} />
    </Routes>
  );
}
