// My devices: every session of mine — browser and system read from its User-Agent, IP address,
// when it logged in and when it was last used — with "Log out" for each and "Log out everywhere
// else". Logging out this device goes through POST /auth/logout and lands on the log-in page.
import { useInfiniteQuery, useQueryClient } from "@tanstack/react-query";
import { useId, useState } from "react";
import { Link, useNavigate } from "react-router";
import { api, call, isApiError } from "../api/client";
import type { DeviceSession } from "../api/types";
import { Button } from "../components/Button";
import { ConfirmDialog } from "../components/Dialog";
import { Badge, ErrorNotice, Loading, PageHeader } from "../components/Page";
import { useNotify } from "../components/Toast";
import { useResetSession, useSignedIn } from "../lib/auth";
import { formatDateTime, fromNow } from "../lib/format";
import { useAction } from "../lib/forms";
import { keys } from "../lib/places";
import { type DeviceKind, parseUserAgent } from "../lib/user-agent";
import "./devices.css";

const PAGE_SIZE = 100;

export function DevicesPage() {
  const me = useSignedIn();
  const client = useQueryClient();
  const notify = useNotify();
  const [confirming, setConfirming] = useState(false);
  const sessions = useInfiniteQuery({
    queryKey: keys.sessions(),
    queryFn: ({ pageParam }) =>
      call(
        api.GET("/api/v1/me/sessions", {
          params: { query: { limit: PAGE_SIZE, ...(pageParam ? { cursor: pageParam } : {}) } },
        }),
      ),
    initialPageParam: "",
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const all = sessions.data?.pages.flatMap((p) => p.items) ?? [];
  // This device first, then the others by when they were last used.
  const ordered = [...all].sort(
    (a, b) => Number(b.current) - Number(a.current) || b.lastSeenAt.localeCompare(a.lastSeenAt),
  );
  const others = ordered.filter((s) => !s.current).length;

  const refresh = () => client.invalidateQueries({ queryKey: keys.sessions() });
  const endOthers = useAction(async () => {
    await call(api.DELETE("/api/v1/me/sessions", { params: { query: { except: "current" } } }));
  });

  return (
    <>
      <PageHeader
        title="My devices"
        description={
          <>
            Everywhere you are logged in as <strong>{me.user.email}</strong>. If you do not recognise a
            device, log it out and change your password.
          </>
        }
        actions={
          others > 0 && (
            <Button variant="secondary" onClick={() => setConfirming(true)}>
              Log out everywhere else
            </Button>
          )
        }
      />
      <section className="card card-flush" aria-label="Logged-in devices">
        {sessions.isPending ? (
          <div className="devices-loading">
            <Loading label="Loading your devices…" rows={3} />
          </div>
        ) : sessions.isError ? (
          <div className="devices-loading">
            <ErrorNotice error={sessions.error} retry={() => sessions.refetch()} />
          </div>
        ) : (
          <>
            <ul className="device-list">
              {ordered.map((s) => (
                <DeviceRow key={s.id} session={s} onGone={refresh} />
              ))}
            </ul>
            {others === 0 && <p className="device-note">No other device is logged in.</p>}
            {sessions.hasNextPage && (
              <div className="pager">
                <Button size="sm" busy={sessions.isFetchingNextPage} onClick={() => sessions.fetchNextPage()}>
                  Show more devices
                </Button>
              </div>
            )}
          </>
        )}
      </section>
      <p className="muted small">
        Changing your password also logs out every other device. <Link to="/account">Go to My account</Link>
      </p>
      <ConfirmDialog
        open={confirming}
        title="Log out everywhere else?"
        message={`${others === 1 ? "The other device" : `All ${others} other devices`} will have to log in again. This device stays logged in.`}
        confirmLabel="Log out other devices"
        busy={endOthers.busy}
        error={endOthers.error?.message}
        onClose={() => {
          setConfirming(false);
          endOthers.reset();
        }}
        onConfirm={async () => {
          if (await endOthers.run()) {
            setConfirming(false);
            notify(others === 1 ? "Logged out 1 other device" : `Logged out ${others} other devices`);
            await refresh();
          }
        }}
      />
    </>
  );
}

function DeviceRow({ session, onGone }: { session: DeviceSession; onGone: () => Promise<void> }) {
  const id = useId();
  const notify = useNotify();
  const navigate = useNavigate();
  const client = useQueryClient();
  const reset = useResetSession();
  const agent = parseUserAgent(session.userAgent);
  const logOut = useAction(async () => {
    if (session.current) {
      await call(api.POST("/api/v1/auth/logout"));
      return;
    }
    try {
      await call(api.DELETE("/api/v1/me/sessions/{id}", { params: { path: { id: session.id } } }));
    } catch (err) {
      // Already ended (it expired, or was logged out elsewhere): the list was out of date.
      if (!isApiError(err, "session_not_found")) throw err;
    }
  });

  const onLogOut = async () => {
    if (!(await logOut.run())) return;
    if (session.current) {
      client.clear();
      await reset();
      navigate("/login", { replace: true });
      return;
    }
    notify(`Logged out ${agent.label}`);
    await onGone();
  };

  return (
    <li className={`device ${session.current ? "device-current" : ""}`}>
      <span className="device-icon" aria-hidden="true">
        <DeviceIcon kind={agent.device} />
      </span>
      <div className="device-main">
        <p className="device-name" id={`${id}-name`}>
          <span title={session.userAgent ?? undefined}>{agent.label}</span>
          {session.current && <Badge tone="good">This device</Badge>}
        </p>
        <dl className="device-meta">
          <div>
            <dt>IP address</dt>
            <dd className="mono">{session.ip ?? "unknown"}</dd>
          </div>
          <div>
            <dt>Logged in</dt>
            <dd>
              <time dateTime={session.createdAt}>{formatDateTime(session.createdAt)}</time>
            </dd>
          </div>
          <div>
            <dt>Last active</dt>
            <dd>
              {session.current ? (
                "now"
              ) : (
                <time dateTime={session.lastSeenAt} title={formatDateTime(session.lastSeenAt)}>
                  {fromNow(session.lastSeenAt)}
                </time>
              )}
            </dd>
          </div>
        </dl>
        {logOut.error && (
          <p className="field-error" role="alert">
            {logOut.error.message}
          </p>
        )}
      </div>
      <div className="device-actions">
        <Button
          size="sm"
          variant={session.current ? "ghost" : "secondary"}
          busy={logOut.busy}
          aria-describedby={`${id}-name`}
          onClick={onLogOut}
        >
          Log out
        </Button>
      </div>
    </li>
  );
}

const DEVICE_PATHS: Record<DeviceKind, string> = {
  desktop: "M3 4h18v12H3zM8 20h8M12 16v4",
  phone: "M7 2.5h10v19H7zM11 18.5h2",
  tablet: "M4.5 3h15v18h-15zM11 18h2",
  other: "M3 5h18v14H3zM7 10l3 2-3 2M12 15h5",
};

function DeviceIcon({ kind }: { kind: DeviceKind }) {
  return (
    <svg
      className="icon"
      width={22}
      height={22}
      viewBox="0 0 24 24"
      fill="none"
      stroke="currentColor"
      strokeWidth={1.8}
      strokeLinecap="round"
      strokeLinejoin="round"
      aria-hidden="true"
      focusable="false"
    >
      <path d={DEVICE_PATHS[kind]} />
    </svg>
  );
}
