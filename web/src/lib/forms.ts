// useAction: runs one API action for a form or a button, keeps its busy state and its error, and
// splits the error into per-field messages and a message for the whole form.
import { useCallback, useRef, useState } from "react";
import { ApiError } from "../api/client";

export interface Action<A extends unknown[]> {
  busy: boolean;
  error: ApiError | null;
  /** The API's message for this field, shown next to it. */
  fieldError(name: string): string | undefined;
  /** The message for the whole form: the error when it names none of `fields`. */
  formError(fields?: string[]): string | undefined;
  run(...args: A): Promise<boolean>;
  reset(): void;
}

export function useAction<A extends unknown[]>(
  action: (...args: A) => Promise<unknown>,
  onDone?: () => void,
): Action<A> {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const running = useRef(false);
  const run = useCallback(
    async (...args: A) => {
      if (running.current) return false;
      running.current = true;
      setBusy(true);
      setError(null);
      try {
        await action(...args);
        onDone?.();
        return true;
      } catch (err) {
        setError(
          err instanceof ApiError
            ? err
            : new ApiError(0, "unexpected", "Something went wrong. Please try again."),
        );
        return false;
      } finally {
        running.current = false;
        setBusy(false);
      }
    },
    [action, onDone],
  );
  return {
    busy,
    error,
    fieldError: (name) => error?.field(name),
    formError: (fields = []) => {
      if (!error) return undefined;
      const named = error.errors.some((e) => fields.includes(e.field));
      return named ? undefined : error.message;
    },
    run,
    reset: () => setError(null),
  };
}
