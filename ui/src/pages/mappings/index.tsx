import { NavLink, Navigate, Route, Routes, useLocation } from "react-router";
import { NotFound } from "../NotFound";
import { ReprocessNotice } from "./common";
import { Hierarchies } from "./Hierarchies";
import { Statuses } from "./Statuses";
import { Unmapped } from "./Unmapped";
import { Workflows } from "./Workflows";
import { WorkItemTypes } from "./WorkItemTypes";

const TABS: readonly (readonly [string, string])[] = [
  ["work-item-types", "Work item types"],
  ["hierarchies", "Hierarchies"],
  ["statuses", "Statuses"],
  ["workflows", "Workflows"],
  ["unmapped", "Unmapped values"],
];

const tabClass = ({ isActive }: { isActive: boolean }) =>
  `-mb-px border-b-2 px-3 py-1.5 text-sm font-medium ${
    isActive
      ? "border-blue-600 text-slate-900 dark:border-blue-400 dark:text-white"
      : "border-transparent text-slate-600 hover:text-slate-900 dark:text-slate-300 dark:hover:text-white"
  }`;

function Tabs() {
  // The integration filter follows the reader from tab to tab.
  const { search } = useLocation();
  return (
    <nav aria-label="Mappings" className="mt-3 mb-4 flex flex-wrap gap-1 border-b border-slate-200 dark:border-slate-800">
      {TABS.map(([path, label]) => (
        <NavLink key={path} to={{ pathname: `/mappings/${path}`, search }} className={tabClass}>
          {label}
        </NavLink>
      ))}
    </nav>
  );
}

/** Mappings: every route under /mappings (lazy-loaded by App), one tab each. */
export default function MappingsArea() {
  return (
    <div>
      <h1 className="text-xl font-semibold">Mappings</h1>
      <p className="muted mt-1 text-sm">
        How source issue types and statuses become the work item types, statuses and workflows your charts use. A change transforms
        the affected items again from the raw data, without calling the source.
      </p>
      <Tabs />
      <ReprocessNotice />
      <Routes>
        <Route index element={<Navigate to="work-item-types" replace />} />
        <Route path="work-item-types" element={<WorkItemTypes />} />
        <Route path="hierarchies" element={<Hierarchies />} />
        <Route path="statuses" element={<Statuses />} />
        <Route path="workflows" element={<Workflows />} />
        <Route path="unmapped" element={<Unmapped />} />
        <Route path="*" element={<NotFound />} />
      </Routes>
    </div>
  );
}
