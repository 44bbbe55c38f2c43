// Pages behind a log-in: while /me loads, a placeholder; logged out, the log-in page, which comes
// back here afterwards (?next=).
import type { ReactNode } from "react";
import { Navigate, useLocation } from "react-router";
import { useMe } from "../lib/auth";
import { ErrorNotice, Loading } from "./Page";

export function RequireAuth({ children }: { children: ReactNode }) {
  const me = useMe();
  const location = useLocation();
  if (me.isPending) return <Loading label="Checking your session…" />;
  if (me.isError) return <ErrorNotice error={me.error} retry={() => me.refetch()} />;
  if (!me.data) {
    const next = location.pathname + location.search;
    return <Navigate to={`/login${next === "/" ? "" : `?next=${encodeURIComponent(next)}`}`} replace />;
  }
  return <>{children}</>;
}

/** A `next` that stays on this site (a path, not //host or a URL). */
export function safeNext(next: string | null): string | undefined {
  if (!next?.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) return undefined;
  return next;
}
