// Short confirmations ("Role saved") announced politely and gone after a few seconds.
import { createContext, type ReactNode, useCallback, useContext, useEffect, useRef, useState } from "react";
import { Icon } from "./Icon";

interface Toast {
  id: number;
  message: string;
}

const ToastContext = createContext<(message: string) => void>(() => {});

export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const layer = useRef<HTMLDivElement>(null);
  // In the top layer (a manual popover), so that a toast shows above an open modal dialog.
  useEffect(() => {
    const el = layer.current;
    if (!el?.showPopover) return;
    if (toasts.length > 0 && !el.matches(":popover-open")) el.showPopover();
    if (toasts.length === 0 && el.matches(":popover-open")) el.hidePopover();
  }, [toasts]);
  const notify = useCallback((message: string) => {
    const id = Date.now() + Math.random();
    setToasts((t) => [...t, { id, message }]);
    window.setTimeout(() => setToasts((t) => t.filter((x) => x.id !== id)), 4000);
  }, []);
  return (
    <ToastContext.Provider value={notify}>
      {children}
      <div ref={layer} className="toasts" role="status" aria-live="polite" popover="manual">
        {toasts.map((t) => (
          <div key={t.id} className="toast">
            <Icon name="check" /> {t.message}
          </div>
        ))}
      </div>
    </ToastContext.Provider>
  );
}

/** notify("Invitation sent") */
export function useNotify(): (message: string) => void {
  return useContext(ToastContext);
}
