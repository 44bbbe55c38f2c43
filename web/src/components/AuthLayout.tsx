// The frame of the pages one sees logged out: a centred card under the product's name.
import type { ReactNode } from "react";
import { Link } from "react-router";

export function AuthLayout({
  title,
  subtitle,
  children,
  footer,
}: {
  title: string;
  subtitle?: ReactNode;
  children: ReactNode;
  footer?: ReactNode;
}) {
  return (
    <div className="auth">
      <main className="auth-main" id="main">
        <Link to="/" className="brand auth-brand" aria-label="Rollcall home">
          <img src="/favicon.svg" alt="" width={32} height={32} />
          <span className="brand-name">Rollcall</span>
        </Link>
        <div className="auth-card">
          <h1>{title}</h1>
          {subtitle && <p className="auth-subtitle">{subtitle}</p>}
          {children}
        </div>
        {footer && <div className="auth-footer">{footer}</div>}
      </main>
    </div>
  );
}
