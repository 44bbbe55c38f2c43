// What a person sees on a page their role does not open: what is needed, what they have, and
// whom to ask — never a broken screen.
import { Link } from "react-router";
import { Icon } from "./Icon";

export function Forbidden({
  need,
  place,
  current,
  ask,
  back,
}: {
  /** The role (or roles) that open this page, e.g. "Admin" or "Owner or Admin". */
  need: string;
  /** Where: the organisation's or workspace's name. */
  place: string;
  /** The caller's role there, if any. */
  current?: string;
  /** Names of people who can grant it; when empty, "an owner or admin of <place>". */
  ask?: string[];
  back: { to: string; label: string };
}) {
  const whom = ask && ask.length > 0 ? listNames(ask) : `an owner or admin of ${place}`;
  return (
    <section className="forbidden" aria-labelledby="forbidden-title">
      <div className="forbidden-icon">
        <Icon name="lock" size={28} />
      </div>
      <h1 id="forbidden-title">You need the {need} role</h1>
      <p>
        This page is for people with the {need} role in <strong>{place}</strong>.
        {current && (
          <>
            {" "}
            Your role there is <strong>{current}</strong>.
          </>
        )}
      </p>
      <p>If you need it, ask {whom} to change your role.</p>
      <Link className="btn btn-secondary" to={back.to}>
        {back.label}
      </Link>
    </section>
  );
}

function listNames(names: string[]): string {
  if (names.length === 1) return names[0] ?? "";
  const shown = names.slice(0, 3);
  const rest = names.length - shown.length;
  if (rest > 0) return `${shown.join(", ")} or ${rest} other${rest === 1 ? "" : "s"}`;
  return `${shown.slice(0, -1).join(", ")} or ${shown.at(-1)}`;
}

export function NotFoundPage({
  what = "page",
  back = { to: "/", label: "Go to my organisations" },
}: {
  what?: string;
  back?: { to: string; label: string };
}) {
  return (
    <section className="forbidden" aria-labelledby="notfound-title">
      <div className="forbidden-icon">
        <Icon name="search" size={28} />
      </div>
      <h1 id="notfound-title">This {what} is not here</h1>
      <p>It may have been deleted, or you may no longer be a member. Check the address, or go back.</p>
      <Link className="btn btn-secondary" to={back.to}>
        {back.label}
      </Link>
    </section>
  );
}
