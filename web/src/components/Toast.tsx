// Short confirmations ("Role saved") announced politely and gone after a few seconds.
import { createContext, type ReactNode, useCallback, useContext, useState } from "react";
import { Icon } from "./Icon";

interface Toast {
  id: number;
  message: string;
}

const ToastContext = createContext<(message: string) => void>(() => {});

export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const notify = useCallback((message: string) => {
    const id = Date.now() + Math.random();
    setToasts((t) => [...t, { id, message }]);
    window.setTimeout(() => setToasts((t) => t.filter((x) => x.id !== id)), 4000);
  }, []);
  return (
    <ToastContext.Provider value={notify}>
      {children}
      <div className="toasts" role="status" aria-live="polite">
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
