// Pieces the logged-out forms share: a password input that can show what was typed, the checks
// made before a form is sent (the server makes them again), and moving focus to the first field
// that needs attention after a failed submit.
import { type InputHTMLAttributes, type ReactNode, type RefObject, useEffect, useId, useState } from "react";
import { Icon } from "../../components/Icon";

/** The server's rule (src/accounts/passwords.ts): 8 to 256 characters. */
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 256;
export const PASSWORD_HINT = `${PASSWORD_MIN} to ${PASSWORD_MAX} characters. A short phrase is easy to remember.`;

export interface PasswordFieldProps extends Omit<InputHTMLAttributes<HTMLInputElement>, "type"> {
  label: string;
  hint?: ReactNode;
  error?: string | undefined;
  /** Shown on the label's line, outside the label (e.g. a "Forgot password?" link). */
  aside?: ReactNode;
}

export function PasswordField({ label, hint, error, aside, ...input }: PasswordFieldProps) {
  const id = useId();
  const [visible, setVisible] = useState(false);
  const hintId = hint && !error ? `${id}-hint` : undefined;
  const errorId = error ? `${id}-error` : undefined;
  const describedBy = [hintId, errorId].filter(Boolean).join(" ") || undefined;
  return (
    <div className={`field ${error ? "field-invalid" : ""}`}>
      <div className="field-label-row">
        <label htmlFor={id}>{label}</label>
        {aside}
      </div>
      <div className="password-input">
        <input
          id={id}
          type={visible ? "text" : "password"}
          aria-invalid={error ? true : undefined}
          aria-describedby={describedBy}
          autoCapitalize="off"
          autoCorrect="off"
          spellCheck={false}
          {...input}
        />
        <button
          type="button"
          className="password-toggle"
          aria-label={visible ? `Hide ${label.toLowerCase()}` : `Show ${label.toLowerCase()}`}
          aria-controls={id}
          onClick={() => setVisible((v) => !v)}
        >
          {visible ? "Hide" : "Show"}
        </button>
      </div>
      {hintId && (
        <p className="field-hint" id={hintId}>
          {hint}
        </p>
      )}
      {errorId && (
        <p className="field-error" id={errorId}>
          <Icon name="alert" size={14} /> {error}
        </p>
      )}
    </div>
  );
}

/** An API message about a field ("must be at least 8 characters") as a sentence. */
export function sentence(message: string | undefined): string | undefined {
  if (!message) return undefined;
  const text = message.charAt(0).toUpperCase() + message.slice(1);
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

/** The same shape the server accepts: something@something.tld, no spaces. */
export function looksLikeEmail(value: string): boolean {
  return /^[^\s@<>()[\],;:"]+@[^\s@<>()[\],;:"]+\.[^\s@<>()[\],;:".]+$/.test(value.trim());
}

/** Why a new password will be refused for its length, or undefined. */
export function passwordLengthProblem(password: string): string | undefined {
  const chars = [...password].length;
  if (chars === 0) return "Choose a password.";
  if (chars < PASSWORD_MIN) return `The password must be at least ${PASSWORD_MIN} characters.`;
  if (chars > PASSWORD_MAX) return `The password must be at most ${PASSWORD_MAX} characters.`;
  return undefined;
}

/** Field errors found before sending; empty when the form may be sent. */
export type Problems = Record<string, string>;

export function hasProblems(problems: Problems): boolean {
  return Object.keys(problems).length > 0;
}

/**
 * After each failed submit (`attempt` grows), focus the first field marked invalid, or the form's
 * error message, so that a keyboard or screen-reader user lands where the problem is.
 */
export function useFocusFirstProblem(form: RefObject<HTMLFormElement | null>, attempt: number): void {
  useEffect(() => {
    if (attempt === 0) return;
    const target =
      form.current?.querySelector<HTMLElement>('[aria-invalid="true"]') ??
      form.current?.querySelector<HTMLElement>('[role="alert"]');
    if (target) {
      if (!target.matches("input, select, textarea, button")) target.tabIndex = -1;
      target.focus();
    }
  }, [form, attempt]);
}
