// Who is logged in: GET /api/v1/me, shared through react-query under the key ["me"]. A 401 means
// nobody (or a session that ended); anything else is an error the shell shows.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback } from "react";
import { api, call, isApiError } from "../api/client";
import type { Me } from "../api/types";

export const ME_KEY = ["me"] as const;

export async function fetchMe(): Promise<Me | null> {
  try {
    return await call(api.GET("/api/v1/me"));
  } catch (err) {
    if (isApiError(err) && err.status === 401) return null;
    throw err;
  }
}

export function useMe() {
  return useQuery({ queryKey: ME_KEY, queryFn: fetchMe, staleTime: 30_000 });
}

/** The logged-in user; only inside pages behind <RequireAuth>. */
export function useSignedIn(): Me {
  const { data } = useMe();
  if (!data) throw new Error("useSignedIn outside RequireAuth");
  return data;
}

/** Forget everything cached for the previous person and read /me again. */
export function useResetSession() {
  const client = useQueryClient();
  return useCallback(async () => {
    client.removeQueries({ predicate: (q) => q.queryKey[0] !== ME_KEY[0] });
    await client.invalidateQueries({ queryKey: ME_KEY });
    await client.refetchQueries({ queryKey: ME_KEY });
  }, [client]);
}

const LAST_ORG = "rollcall.lastOrganization";

export function rememberOrganization(id: string): void {
  try {
    localStorage.setItem(LAST_ORG, id);
  } catch {
    // Private windows may refuse storage; the first organisation opens instead.
  }
}

/** The organisation to open after log-in: the last one used, if still mine, else the first. */
export function homeOrganization(me: Me): string | undefined {
  let last: string | null = null;
  try {
    last = localStorage.getItem(LAST_ORG);
  } catch {
    last = null;
  }
  return me.organizations.find((o) => o.id === last)?.id ?? me.organizations[0]?.id;
}
