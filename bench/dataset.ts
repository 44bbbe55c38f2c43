// The data both systems are seeded with, defined once so that Rollcall and Better Auth hold the
// same people, organisations and memberships. Everything is a pure function of an index, so a
// stage can add users [from, to) to what an earlier stage wrote.
//
// - user i (0-based): name `${first} ${last} ${i}`, e-mail `user${i}@bench.example`
// - organisation 0 is "the big one": every seeded user is a member (role member), so it has as
//   many members as there are users — 1,000, 10,000, then 1,000,000
// - organisation k ≥ 1 holds users 10(k-1) … 10(k-1)+9 (the first of them its owner), so
//   1,000,000 users make 100,000 small organisations besides the big one
// - the measuring user is not part of this: each system signs it up through its own API and
//   makes it an owner of organisation 0 (see the seeders)

const FIRST = [
  "Ada",
  "Grace",
  "Alan",
  "Edsger",
  "Barbara",
  "Donald",
  "Frances",
  "John",
  "Katherine",
  "Linus",
  "Margaret",
  "Niklaus",
  "Radia",
  "Ken",
  "Dennis",
  "Hedy",
  "Tim",
  "Shafi",
  "Leslie",
  "Sophie",
];
const LAST = [
  "Lovelace",
  "Hopper",
  "Turing",
  "Dijkstra",
  "Liskov",
  "Knuth",
  "Allen",
  "McCarthy",
  "Johnson",
  "Torvalds",
  "Hamilton",
  "Wirth",
  "Perlman",
  "Thompson",
  "Ritchie",
  "Lamarr",
  "Berners-Lee",
  "Goldwasser",
  "Lamport",
  "Wilson",
];

/** Users per small organisation. */
export const SMALL_ORG_SIZE = 10;

export function userName(i: number): string {
  return `${FIRST[i % FIRST.length]} ${LAST[Math.floor(i / FIRST.length) % LAST.length]} ${i}`;
}

export function userEmail(i: number): string {
  return `user${i}@bench.example`;
}

export function orgName(k: number): string {
  return k === 0 ? "Bench big organisation" : `Bench organisation ${k}`;
}

export function orgSlug(k: number): string {
  return `bench-org-${k}`;
}

/** The small organisation user i belongs to (≥ 1). */
export function smallOrgOf(i: number): number {
  return 1 + Math.floor(i / SMALL_ORG_SIZE);
}

/** Organisations that exist once users [0, users) are seeded: the big one and the small ones. */
export function organizationCount(users: number): number {
  return 1 + Math.ceil(users / SMALL_ORG_SIZE);
}

export interface Membership {
  user: number;
  org: number;
  role: "owner" | "member";
}

/** The memberships of users [from, to): each in the big organisation and in its small one. */
export function* memberships(from: number, to: number): Generator<Membership> {
  for (let i = from; i < to; i++) {
    yield { user: i, org: 0, role: "member" };
    yield { user: i, org: smallOrgOf(i), role: i % SMALL_ORG_SIZE === 0 ? "owner" : "member" };
  }
}

/**
 * A progress line on stderr for long seeding: `label  [#####-----]  42%  420,000/1,000,000`.
 * Returns a function to call with the count done; it redraws at most every 200 ms.
 */
export function progress(label: string, total: number): (done: number) => void {
  let last = 0;
  const tty = process.stderr.isTTY;
  return (done) => {
    const now = Date.now();
    if (done < total && now - last < (tty ? 200 : 5_000)) return;
    last = now;
    const share = total === 0 ? 1 : done / total;
    const bar = "#".repeat(Math.round(share * 20)).padEnd(20, "-");
    const line = `${label.padEnd(28)} [${bar}] ${String(Math.round(share * 100)).padStart(3)}%  ${done.toLocaleString("en")}/${total.toLocaleString("en")}`;
    process.stderr.write(tty ? `\r${line}${done >= total ? "\n" : ""}` : `${line}\n`);
  };
}
