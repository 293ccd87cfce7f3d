// A confirmation as a native modal <dialog>: the browser traps focus, closes on Escape and makes the
// page behind inert. (Radix Dialog's scroll lock injects a <style> element, which the console's CSP,
// style-src 'self', refuses.)

import { useEffect, useRef, type ReactNode } from "react";

export interface ConfirmDialogProps {
  open: boolean;
  title: string;
  children?: ReactNode;
  confirmLabel: string;
  cancelLabel?: string;
  danger?: boolean;
  busy?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
}

export function ConfirmDialog(props: ConfirmDialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const { open, onCancel } = props;

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) {
      if (typeof dialog.showModal === "function") dialog.showModal();
      else dialog.setAttribute("open", "");
    } else if (!open && dialog.open) {
      if (typeof dialog.close === "function") dialog.close();
      else dialog.removeAttribute("open");
    }
  }, [open]);

  return (
    <dialog
      ref={ref}
      aria-labelledby="confirm-title"
      onCancel={(event) => {
        event.preventDefault();
        onCancel();
      }}
      className="m-auto w-[28rem] max-w-[calc(100vw-2rem)] rounded-lg border border-slate-200 bg-white p-0 text-slate-900 shadow-xl backdrop:bg-slate-950/50 dark:border-slate-700 dark:bg-slate-900 dark:text-slate-100"
    >
      {open && (
        <form
          method="dialog"
          className="p-5"
          onSubmit={(event) => {
            event.preventDefault();
            props.onConfirm();
          }}
        >
          <h2 id="confirm-title" className="text-base font-semibold">
            {props.title}
          </h2>
          <div className="mt-2 text-sm text-slate-600 dark:text-slate-300">{props.children}</div>
          <div className="mt-5 flex justify-end gap-2">
            <button type="button" className="btn" onClick={onCancel} autoFocus>
              {props.cancelLabel ?? "Keep it"}
            </button>
            <button type="submit" className={`btn ${props.danger ? "btn-danger" : "btn-primary"}`} disabled={props.busy}>
              {props.busy ? "Working…" : props.confirmLabel}
            </button>
          </div>
        </form>
      )}
    </dialog>
  );
}
