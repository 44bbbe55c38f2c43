import type { ButtonHTMLAttributes, ReactNode } from "react";

export interface ButtonProps extends ButtonHTMLAttributes<HTMLButtonElement> {
  variant?: "primary" | "secondary" | "danger" | "ghost";
  size?: "md" | "sm";
  /** Shows a spinner and disables the button while an action runs. */
  busy?: boolean;
  children: ReactNode;
}

export function Button({
  variant = "secondary",
  size = "md",
  busy,
  disabled,
  className,
  children,
  ...rest
}: ButtonProps) {
  return (
    <button
      type="button"
      {...rest}
      className={["btn", `btn-${variant}`, size === "sm" ? "btn-sm" : "", className ?? ""].join(" ").trim()}
      disabled={disabled || busy}
      aria-busy={busy || undefined}
    >
      {busy && <span className="spinner" aria-hidden="true" />}
      {children}
    </button>
  );
}

/** A button showing only an icon: the label is what a screen reader and a tooltip say. */
export function IconButton({
  label,
  children,
  className,
  ...rest
}: Omit<ButtonProps, "variant" | "size"> & { label: string }) {
  return (
    <Button
      {...rest}
      variant="ghost"
      size="sm"
      className={`icon-btn ${className ?? ""}`}
      aria-label={label}
      title={label}
    >
      {children}
    </Button>
  );
}
