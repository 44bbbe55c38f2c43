// The role and permission catalogue: docs/roles.md (the default catalogue, effective roles, the
// host's extensions) and rule 1 (no escalation), as pure functions — no database.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  can,
  effectiveWorkspaceRole,
  orgGrantRefusal,
  permissionsOf,
  type Standing,
  scopeOf,
  why,
  workspaceGrantRefusal,
} from "./can.js";
import {
  BUILT_IN_WORKSPACE_ROLES,
  buildCatalogue,
  type Catalogue,
  CatalogueError,
  type CatalogueExtension,
  DEFAULT_CATALOGUE,
  loadCatalogue,
  ORG_ROLES as ORG_ROLE_NAMES,
} from "./catalogue.js";

// docs/roles.md, copied by hand: one row per permission, the roles with a ✓ in it.
const WORKSPACE_TABLE: [permission: string, roles: string[]][] = [
  ["flows.read", ["admin", "editor", "viewer"]],
  ["flows.write", ["admin", "editor"]],
  ["flows.start", ["admin", "editor"]],
  ["messages.send", ["admin", "editor"]],
  ["contacts.read", ["admin", "editor", "viewer"]],
  ["contacts.write", ["admin", "editor"]],
  ["exports.create", ["admin", "editor"]],
  ["imports.create", ["admin", "editor"]],
  ["tickets.read", ["admin", "editor", "agent", "viewer"]],
  ["tickets.respond", ["admin", "editor", "agent"]],
  ["workspace.settings", ["admin"]],
  ["workspace.integrations", ["admin"]],
  ["workspace.users", ["admin"]],
];

const ORG_TABLE: [permission: string, roles: string[]][] = [
  ["org.read", ["owner", "admin", "member"]],
  ["org.users", ["owner", "admin"]],
  ["org.workspaces", ["owner", "admin"]],
  ["org.settings", ["owner", "admin"]],
  ["org.billing", ["owner"]],
  ["org.integrations", ["owner"]],
  ["org.owners", ["owner"]],
  ["org.apikeys", ["owner", "admin"]],
];

const WORKSPACE_ROLES = ["admin", "editor", "agent", "viewer"];
const ORG_ROLES = ["owner", "admin", "member"];

/** role → its permissions, sorted, read off a table. */
function byRole(table: [string, string[]][], roles: string[]): Record<string, string[]> {
  return Object.fromEntries(
    roles.map((role) => [
      role,
      table
        .filter(([, holders]) => holders.includes(role))
        .map(([p]) => p)
        .sort(),
    ]),
  );
}

const cat = DEFAULT_CATALOGUE;

describe("the default catalogue is the table in docs/roles.md", () => {
  test("workspace roles hold exactly the permissions of the table", () => {
    const expected = byRole(WORKSPACE_TABLE, WORKSPACE_ROLES);
    for (const role of WORKSPACE_ROLES) {
      // An org member acts with exactly the workspace role granted to them.
      const standing = { orgRole: "member", workspaceRole: role };
      assert.equal(effectiveWorkspaceRole(cat, standing), role);
      assert.deepEqual(permissionsOf(cat, standing, "workspace"), expected[role], role);
    }
    assert.deepEqual(
      cat.workspaceRoles.map((r) => r.name),
      WORKSPACE_ROLES,
      "highest rank first",
    );
    assert.deepEqual([...cat.workspacePermissions.keys()].sort(), WORKSPACE_TABLE.map(([p]) => p).sort());
  });

  test("org roles hold exactly the permissions of the table", () => {
    const expected = byRole(ORG_TABLE, ORG_ROLES);
    for (const role of ORG_ROLES) {
      assert.deepEqual(permissionsOf(cat, { orgRole: role }, "org"), expected[role], role);
    }
    assert.deepEqual(
      cat.orgRoles.map((r) => r.name),
      ORG_ROLES,
    );
    // The code's one list (its type, the API's enum, the database's CHECKs follow it), and the
    // built-in workspace roles, are DESIGN's; no extension changes the org roles.
    assert.deepEqual([...ORG_ROLE_NAMES], ORG_ROLES);
    assert.deepEqual([...BUILT_IN_WORKSPACE_ROLES], WORKSPACE_ROLES);
    const extended = buildCatalogue({
      workspaceRoles: { auditor: { rank: 5, description: "A", permissions: [] } },
    });
    assert.deepEqual(
      extended.orgRoles.map((r) => r.name),
      ORG_ROLES,
    );
    assert.deepEqual([...cat.orgPermissions.keys()].sort(), ORG_TABLE.map(([p]) => p).sort());
  });

  test("can() agrees with every cell of both tables, and permissions never cross scopes", () => {
    for (const [permission, holders] of WORKSPACE_TABLE) {
      assert.equal(scopeOf(cat, permission), "workspace");
      for (const role of WORKSPACE_ROLES) {
        assert.equal(
          can(cat, permission, { orgRole: "member", workspaceRole: role }),
          holders.includes(role),
          `${role} ${permission}`,
        );
      }
      // An org role alone (no workspace in question) holds no workspace permission through the org scope.
      assert.ok(!permissionsOf(cat, { orgRole: "owner" }, "org").includes(permission));
    }
    for (const [permission, holders] of ORG_TABLE) {
      assert.equal(scopeOf(cat, permission), "org");
      for (const role of ORG_ROLES) {
        assert.equal(
          can(cat, permission, { orgRole: role }),
          holders.includes(role),
          `${role} ${permission}`,
        );
      }
      // A workspace admin who is an org member does not gain org permissions.
      if (!holders.includes("member")) {
        assert.equal(can(cat, permission, { orgRole: "member", workspaceRole: "admin" }), false, permission);
      }
    }
    assert.equal(scopeOf(cat, "reports.read"), null);
    assert.equal(can(cat, "reports.read", { orgRole: "owner" }), false, "nothing is allowed by default");
    assert.equal(can(cat, "flows.read", { orgRole: null, workspaceRole: "admin" }), false, "outside the org");
  });
});

describe("effective workspace roles", () => {
  test("org owners and admins act as workspace admin; a member has only what is granted", () => {
    assert.equal(effectiveWorkspaceRole(cat, { orgRole: "owner" }), "admin");
    assert.equal(effectiveWorkspaceRole(cat, { orgRole: "admin" }), "admin");
    assert.equal(effectiveWorkspaceRole(cat, { orgRole: "member" }), null);
    assert.equal(effectiveWorkspaceRole(cat, { orgRole: "member", workspaceRole: null }), null);
    assert.deepEqual(permissionsOf(cat, { orgRole: "member" }, "workspace"), []);
    assert.deepEqual(
      permissionsOf(cat, { orgRole: "owner" }, "workspace"),
      byRole(WORKSPACE_TABLE, ["admin"]).admin,
    );
    assert.deepEqual(
      permissionsOf(cat, { orgRole: "admin" }, "workspace"),
      byRole(WORKSPACE_TABLE, ["admin"]).admin,
    );
    assert.equal(effectiveWorkspaceRole(cat, { orgRole: null, workspaceRole: "editor" }), null);
  });

  test("the higher of the direct role and the acted-as role wins", () => {
    for (const orgRole of ["owner", "admin"]) {
      for (const direct of WORKSPACE_ROLES) {
        assert.equal(
          effectiveWorkspaceRole(cat, { orgRole, workspaceRole: direct }),
          "admin",
          `${orgRole}+${direct}`,
        );
      }
    }
    for (const direct of WORKSPACE_ROLES) {
      assert.equal(effectiveWorkspaceRole(cat, { orgRole: "member", workspaceRole: direct }), direct);
    }
    // A host role ranked above admin, granted directly, outranks what the org role gives.
    const withBoss = buildCatalogue({
      workspaceRoles: {
        boss: { rank: 50, description: "Above admin", permissions: ["flows.read", "workspace.users"] },
      },
    });
    assert.equal(effectiveWorkspaceRole(withBoss, { orgRole: "owner", workspaceRole: "boss" }), "boss");
    assert.equal(effectiveWorkspaceRole(withBoss, { orgRole: "owner", workspaceRole: "viewer" }), "admin");
    assert.equal(effectiveWorkspaceRole(withBoss, { orgRole: "member", workspaceRole: "boss" }), "boss");
  });
});

describe("why()", () => {
  const member = (workspaceRole: string | null): Standing => ({ orgRole: "member", workspaceRole });

  test("says in words why a workspace permission is or is not held", () => {
    assert.equal(why(cat, "flows.write", member("agent")), "agent lacks flows.write; editor or admin has it");
    assert.equal(why(cat, "flows.write", member("editor")), "editor has flows.write");
    assert.equal(why(cat, "flows.write", member("admin")), "admin has flows.write");
    assert.equal(
      why(cat, "flows.write", { orgRole: "owner" }),
      "admin (as organisation owner) has flows.write",
    );
    assert.equal(
      why(cat, "workspace.users", { orgRole: "admin", workspaceRole: "viewer" }),
      "admin (as organisation admin) has workspace.users",
    );
    assert.equal(why(cat, "workspace.users", member("editor")), "editor lacks workspace.users; admin has it");
    assert.equal(
      why(cat, "flows.read", member("agent")),
      "agent lacks flows.read; viewer, editor or admin has it",
    );
    assert.equal(why(cat, "flows.read", member(null)), "no role in this workspace");
    assert.equal(
      why(cat, "flows.read", { orgRole: null, workspaceRole: "admin" }),
      "not a member of this organisation",
    );
  });

  test("says in words why an org permission is or is not held", () => {
    assert.equal(
      why(cat, "org.billing", { orgRole: "admin" }),
      "organisation admin lacks org.billing; owner has it",
    );
    assert.equal(
      why(cat, "org.users", { orgRole: "member" }),
      "organisation member lacks org.users; admin or owner has it",
    );
    assert.equal(why(cat, "org.read", { orgRole: "member" }), "organisation member has org.read");
    assert.equal(why(cat, "org.owners", { orgRole: null }), "not a member of this organisation");
    assert.equal(
      why(cat, "reports.read", { orgRole: "owner" }),
      "reports.read is not a permission this server knows",
    );
  });
});

describe("rule 1: no escalation", () => {
  const FROM = [...ORG_ROLES, null]; // null: not yet a member (a grant)
  const TO = [...ORG_ROLES, null]; // null: removal

  test("org roles: only owners grant or revoke owner; admins grant admin and member; members nothing", () => {
    let checked = 0;
    for (const actor of [...ORG_ROLES, null]) {
      for (const from of FROM) {
        for (const to of TO) {
          const label = `${actor} changing ${from ?? "(none)"} → ${to ?? "(removed)"}`;
          const refusal = orgGrantRefusal(cat, actor, from, to);
          const touchesOwner = from === "owner" || to === "owner";
          let expected: string | null;
          if (actor === null) expected = "not a member of this organisation";
          else if (actor === "owner") expected = null;
          else if (touchesOwner) expected = "only owners grant or revoke owner";
          else if (actor === "admin") expected = null;
          else expected = "organisation member lacks org.users";
          assert.equal(refusal, expected, label);
          checked++;
        }
      }
    }
    assert.equal(checked, 64);
    assert.equal(orgGrantRefusal(cat, "owner", null, "boss"), 'there is no organisation role "boss"');
    assert.equal(orgGrantRefusal(cat, "admin", "member", "boss"), 'there is no organisation role "boss"');
  });

  test("workspace roles: only those with workspace.users there grant, and nothing above their own role", () => {
    const actors: [string, Standing, string | null][] = [
      ["org owner", { orgRole: "owner" }, null],
      ["org admin", { orgRole: "admin" }, null],
      ["workspace admin", { orgRole: "member", workspaceRole: "admin" }, null],
      [
        "editor",
        { orgRole: "member", workspaceRole: "editor" },
        "editor lacks workspace.users; admin has it",
      ],
      ["agent", { orgRole: "member", workspaceRole: "agent" }, "agent lacks workspace.users; admin has it"],
      [
        "viewer",
        { orgRole: "member", workspaceRole: "viewer" },
        "viewer lacks workspace.users; admin has it",
      ],
      ["member without a role", { orgRole: "member", workspaceRole: null }, "no role in this workspace"],
      ["outsider", { orgRole: null, workspaceRole: null }, "not a member of this organisation"],
    ];
    let checked = 0;
    for (const [name, standing, expected] of actors) {
      for (const from of [...WORKSPACE_ROLES, null]) {
        for (const to of [...WORKSPACE_ROLES, null]) {
          assert.equal(workspaceGrantRefusal(cat, standing, from, to), expected, `${name}: ${from} → ${to}`);
          checked++;
        }
      }
    }
    assert.equal(checked, 200);
    assert.equal(
      workspaceGrantRefusal(cat, { orgRole: "owner" }, null, "boss"),
      'there is no workspace role "boss"',
    );
  });

  test("a host role with workspace.users below admin grants up to its own rank only", () => {
    const withManager = buildCatalogue({
      workspaceRoles: {
        manager: { rank: 35, description: "Manages users", permissions: ["flows.read", "workspace.users"] },
      },
    });
    const manager: Standing = { orgRole: "member", workspaceRole: "manager" };
    for (const to of ["manager", "editor", "agent", "viewer", null]) {
      assert.equal(workspaceGrantRefusal(withManager, manager, "viewer", to), null, String(to));
    }
    assert.equal(
      workspaceGrantRefusal(withManager, manager, null, "admin"),
      "a workspace manager cannot grant admin",
    );
    assert.equal(
      workspaceGrantRefusal(withManager, manager, "admin", "viewer"),
      "a workspace manager cannot change an admin",
    );
    assert.equal(
      workspaceGrantRefusal(withManager, manager, "admin", null),
      "a workspace manager cannot change an admin",
    );
    assert.equal(workspaceGrantRefusal(withManager, { orgRole: "admin" }, "manager", "admin"), null);
  });
});

describe("extensions", () => {
  const extension: CatalogueExtension = {
    workspacePermissions: {
      "reports.read": { description: "see reports", roles: ["admin", "editor"] },
    },
    workspaceRoles: {
      analyst: {
        rank: 15,
        description: "Reads flows and reports",
        permissions: ["flows.read", "reports.read"],
      },
    },
    orgPermissions: {
      "org.reports": { description: "see organisation reports", roles: ["owner", "admin"] },
    },
  };

  function assertExtended(extended: Catalogue) {
    assert.equal(scopeOf(extended, "reports.read"), "workspace");
    assert.equal(scopeOf(extended, "org.reports"), "org");
    assert.deepEqual(
      extended.workspaceRoles.map((r) => [r.name, r.rank]),
      [
        ["admin", 40],
        ["editor", 30],
        ["agent", 20],
        ["analyst", 15],
        ["viewer", 10],
      ],
    );
    const analyst = { orgRole: "member", workspaceRole: "analyst" };
    assert.deepEqual(permissionsOf(extended, analyst, "workspace"), ["flows.read", "reports.read"]);
    assert.equal(can(extended, "reports.read", { orgRole: "member", workspaceRole: "editor" }), true);
    assert.equal(can(extended, "reports.read", { orgRole: "member", workspaceRole: "admin" }), true);
    assert.equal(can(extended, "reports.read", { orgRole: "owner" }), true, "owners act as admin");
    assert.equal(can(extended, "reports.read", { orgRole: "member", workspaceRole: "agent" }), false);
    assert.equal(can(extended, "reports.read", { orgRole: "member", workspaceRole: "viewer" }), false);
    assert.equal(can(extended, "flows.write", analyst), false);
    assert.equal(
      why(extended, "reports.read", { orgRole: "member", workspaceRole: "viewer" }),
      "viewer lacks reports.read; analyst, editor or admin has it",
    );
    assert.equal(can(extended, "org.reports", { orgRole: "admin" }), true);
    assert.equal(can(extended, "org.reports", { orgRole: "member" }), false);
    // Every default permission is where it was.
    for (const role of WORKSPACE_ROLES) {
      const defaults = byRole(WORKSPACE_TABLE, WORKSPACE_ROLES)[role] ?? [];
      const extra = ["admin", "editor"].includes(role) ? ["reports.read"] : [];
      assert.deepEqual(
        permissionsOf(extended, { orgRole: "member", workspaceRole: role }, "workspace"),
        [...defaults, ...extra].sort(),
        role,
      );
    }
    // The new role grants nothing: it lacks workspace.users.
    assert.match(
      workspaceGrantRefusal(extended, analyst, null, "viewer") ?? "",
      /analyst lacks workspace\.users/,
    );
    assert.equal(workspaceGrantRefusal(extended, { orgRole: "admin" }, null, "analyst"), null);
  }

  test("a host adds a workspace permission and a workspace role", () => {
    assertExtended(buildCatalogue(extension));
  });

  test("extending leaves the default catalogue as it was", () => {
    buildCatalogue(extension);
    assert.equal(scopeOf(DEFAULT_CATALOGUE, "reports.read"), null);
    assert.ok(!DEFAULT_CATALOGUE.workspaceRoles.some((r) => r.name === "analyst"));
    assert.ok(!DEFAULT_CATALOGUE.workspaceRoles.some((r) => r.permissions.has("reports.read")));
  });

  test("invalid extensions throw a CatalogueError naming each problem", () => {
    const cases: [string, CatalogueExtension, RegExp][] = [
      [
        "bad role name",
        { workspaceRoles: { Analyst: { rank: 15, description: "x", permissions: [] } } },
        /workspace role "Analyst": use lower-case letters, digits and _/,
      ],
      [
        "bad permission name",
        { workspacePermissions: { Reports: { description: "x", roles: ["admin"] } } },
        /workspace permission "Reports": use dotted lower-case names/,
      ],
      [
        "bad org permission name",
        { orgPermissions: { "org.Reports!": { description: "x", roles: ["owner"] } } },
        /org permission "org\.Reports!": use dotted lower-case names/,
      ],
      [
        "unknown role",
        { workspacePermissions: { "reports.read": { description: "x", roles: ["boss"] } } },
        /workspace permission "reports\.read": no workspace role "boss"/,
      ],
      [
        "a workspace role named for an org permission",
        { orgPermissions: { "org.reports": { description: "x", roles: ["editor"] } } },
        /org permission "org\.reports": no org role "editor"/,
      ],
      [
        "duplicate role",
        { workspaceRoles: { editor: { rank: 25, description: "x", permissions: [] } } },
        /workspace role "editor" already exists/,
      ],
      [
        "duplicate permission",
        { workspacePermissions: { "flows.read": { description: "x", roles: ["admin"] } } },
        /workspace permission "flows\.read" already exists/,
      ],
      [
        "duplicate org permission",
        { orgPermissions: { "org.read": { description: "x", roles: ["owner"] } } },
        /org permission "org\.read" already exists/,
      ],
      [
        "rank out of range",
        { workspaceRoles: { analyst: { rank: 100, description: "x", permissions: [] } } },
        /workspace role "analyst": rank must be a whole number from 1 to 99/,
      ],
      [
        "fractional rank",
        { workspaceRoles: { analyst: { rank: 1.5, description: "x", permissions: [] } } },
        /rank must be a whole number/,
      ],
      [
        "unknown permission in a role",
        { workspaceRoles: { analyst: { rank: 15, description: "x", permissions: ["nope.read"] } } },
        /workspace role "analyst": unknown permissions nope\.read/,
      ],
    ];
    for (const [label, ext, message] of cases) {
      assert.throws(
        () => buildCatalogue(ext),
        (e: unknown) => e instanceof CatalogueError && message.test(e.message),
        label,
      );
    }
    // Several problems are all named at once.
    assert.throws(
      () =>
        buildCatalogue({
          workspaceRoles: { editor: { rank: 25, description: "x", permissions: [] } },
          workspacePermissions: { "reports.read": { description: "x", roles: ["boss"] } },
        }),
      (e: unknown) =>
        e instanceof CatalogueError &&
        /already exists/.test(e.message) &&
        /no workspace role "boss"/.test(e.message),
    );
  });
});

describe("loadCatalogue", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "rollcall-roles-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("reads a roles file", async () => {
    const file = join(dir, "roles.json");
    await writeFile(
      file,
      JSON.stringify({
        workspacePermissions: { "reports.read": { description: "see reports", roles: ["admin", "editor"] } },
        workspaceRoles: {
          analyst: {
            rank: 15,
            description: "Reads flows and reports",
            permissions: ["flows.read", "reports.read"],
          },
        },
        orgPermissions: {
          "org.reports": { description: "see organisation reports", roles: ["owner", "admin"] },
        },
      }),
    );
    const loaded = loadCatalogue(file);
    assert.deepEqual(permissionsOf(loaded, { orgRole: "member", workspaceRole: "analyst" }, "workspace"), [
      "flows.read",
      "reports.read",
    ]);
    assert.equal(can(loaded, "org.reports", { orgRole: "admin" }), true);
  });

  test("without a file: the default catalogue", () => {
    const loaded = loadCatalogue(undefined);
    for (const role of WORKSPACE_ROLES) {
      assert.deepEqual(
        permissionsOf(loaded, { orgRole: "member", workspaceRole: role }, "workspace"),
        byRole(WORKSPACE_TABLE, WORKSPACE_ROLES)[role],
      );
    }
  });

  test("a missing, malformed or invalid file is a CatalogueError naming the file or the problem", async () => {
    const missing = join(dir, "missing.json");
    assert.throws(
      () => loadCatalogue(missing),
      (e: unknown) =>
        e instanceof CatalogueError && e.message.includes(`Cannot read the roles file ${missing}`),
    );
    const malformed = join(dir, "malformed.json");
    await writeFile(malformed, "{ not json");
    assert.throws(
      () => loadCatalogue(malformed),
      (e: unknown) =>
        e instanceof CatalogueError && e.message.includes(`Cannot read the roles file ${malformed}`),
    );
    const invalid = join(dir, "invalid.json");
    await writeFile(
      invalid,
      JSON.stringify({ workspaceRoles: { editor: { rank: 5, description: "x", permissions: [] } } }),
    );
    assert.throws(
      () => loadCatalogue(invalid),
      (e: unknown) => e instanceof CatalogueError && /workspace role "editor" already exists/.test(e.message),
    );
  });
});
