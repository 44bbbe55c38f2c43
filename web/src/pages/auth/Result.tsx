// A finished step or a dead end ("Check your inbox", "Password changed", "This invitation has
// expired"): an icon beside what happened, then what to do next.
import type { ReactNode } from "react";
import { Icon, type IconName } from "../../components/Icon";

export function Result({
  icon,
  tone = "info",
  announce = false,
  children,
  action,
}: {
  icon: IconName;
  tone?: "info" | "good" | "warn";
  /** Announce the text to screen readers (the page changed in answer to an action). */
  announce?: boolean;
  children: ReactNode;
  action?: ReactNode;
}) {
  return (
    <div className="auth-result" role={announce ? "status" : undefined}>
      <div className="auth-result-lead">
        <span className={`auth-result-icon tone-${tone}`}>
          <Icon name={icon} size={20} />
        </span>
        <div className="auth-result-text">{children}</div>
      </div>
      {action}
    </div>
  );
}
