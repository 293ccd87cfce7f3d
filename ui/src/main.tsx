import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App, makeQueryClient } from "./App";
import { api } from "./api/instance";
import { applyTheme, watchSystemTheme } from "./lib/theme";
import "./index.css";

applyTheme();
watchSystemTheme();

const root = document.getElementById("root");
if (!root) throw new Error("no #root element");
createRoot(root).render(
  <StrictMode>
    <App client={api} queryClient={makeQueryClient()} />
  </StrictMode>,
);
