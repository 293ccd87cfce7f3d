import * as Toast from "@radix-ui/react-toast";
import { useSyncExternalStore } from "react";

export interface ToastItem {
  id: number;
  title: string;
  description?: string;
  kind: "success" | "error" | "info";
}

let items: ToastItem[] = [];
let nextId = 1;
const listeners = new Set<() => void>();
const emit = () => listeners.forEach((listener) => listener());

export function toast(title: string, options: { description?: string; kind?: ToastItem["kind"] } = {}) {
  items = [...items, { id: nextId++, title, description: options.description, kind: options.kind ?? "info" }];
  emit();
}

export function clearToasts() {
  items = [];
  emit();
}

function dismiss(id: number) {
  items = items.filter((item) => item.id !== id);
  emit();
}

const KIND = {
  success: "border-green-600/40 bg-green-50 text-green-900 dark:bg-green-950 dark:text-green-100",
  error: "border-red-600/50 bg-red-50 text-red-900 dark:bg-red-950 dark:text-red-100",
  info: "border-slate-300 bg-white text-slate-900 dark:border-slate-700 dark:bg-slate-900 dark:text-slate-100",
};

export function Toasts() {
  const list = useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => items,
  );
  return (
    <Toast.Provider swipeDirection="right" duration={6000}>
      {list.map((item) => (
        <Toast.Root
          key={item.id}
          type={item.kind === "error" ? "foreground" : "background"}
          duration={item.kind === "error" ? 12000 : 6000}
          onOpenChange={(open) => {
            if (!open) dismiss(item.id);
          }}
          className={`flex items-start gap-3 rounded-lg border p-3 shadow-lg ${KIND[item.kind]}`}
        >
          <div className="min-w-0 flex-1">
            <Toast.Title className="font-semibold">{item.title}</Toast.Title>
            {item.description && (
              <Toast.Description className="mt-0.5 text-sm break-words">{item.description}</Toast.Description>
            )}
          </div>
          <Toast.Close className="btn px-1.5 py-0" aria-label="Dismiss">
            ×
          </Toast.Close>
        </Toast.Root>
      ))}
      <Toast.Viewport className="fixed right-4 bottom-4 z-50 flex w-96 max-w-[calc(100vw-2rem)] flex-col gap-2 outline-none" />
    </Toast.Provider>
  );
}
