// The delivery log's query plans on PostgreSQL with 100,000 rows (EXPLAIN ANALYZE): `npx tsx bench/delivery-log-plan.ts`.
import pg from "pg";
import { deliveryLogQuery } from "../src/delivery/delivery-log.ts";
import { startTestPostern, TEST_DATABASE_URL } from "../test/support/harness.ts";

const t = await startTestPostern("postgres", {});
const owner = await t.signIn("owner@example.com");
const app = await t.createApp(owner, { name: "Big" });
const other = await t.createApp(owner, { name: "Other" });
const client = new pg.Client({ connectionString: t.databaseUrl });
await client.connect();
// 100,000 rows: 90,000 for the app, 10,000 for another; statuses and routes mixed, one row a minute back from now.
await client.query(
  `insert into deliveries (id, app_id, recipient, route, status, expires_at, created_at, updated_at)
  select 'dlv_' || lpad(g::text, 7, '0'), case when g % 10 = 0 then $2 else $1 end,
    'user' || (g % 20000) || '@example' || (g % 50) || '.com',
    case when g % 4 = 0 then 'custom' else 'default' end,
    (array['sent','sent','sent','sent','sent','sent','failed','expired','retrying','queued'])[1 + g % 10],
    now() - g * interval '1 minute' + interval '10 minutes', now() - g * interval '1 minute', now()
  from generate_series(1, 100000) g`,
  [app.id, other.id],
);
await client.query("analyze deliveries");
console.log((await client.query("select count(*) from deliveries")).rows[0]);
const now = Date.now();
const cases: [string, object, { micros: string; id: string } | undefined][] = [
  ["first page, no filter", {}, undefined],
  ["page 3 by cursor", {}, { micros: String((now - 50 * 60_000) * 1000), id: "dlv_0000050" }],
  ["status=failed", { status: "failed" }, undefined],
  ["recipient prefix user123", { recipient: "user123", match: "prefix" }, undefined],
  [
    "recipient prefix user1234@example34 (rare)",
    { recipient: "user1234@example34", match: "prefix" },
    undefined,
  ],
  ["page 1000 by cursor", {}, { micros: String((now - 25_000 * 60_000) * 1000), id: "dlv_0025000" }],
  ["recipient exact", { recipient: "user4242@example42.com", match: "exact" }, undefined],
  [
    "route=custom, last 24 h",
    { route: "custom", from: new Date(now - 86_400_000), to: new Date(now) },
    undefined,
  ],
];
for (const [name, query, after] of cases) {
  const { sql, params } = deliveryLogQuery(t.postern.ctx.db, app.id, { ...query, limit: 25 }, after).toSQL();
  await client.query(`explain analyze ${sql}`, params); // warm
  const plan = await client.query(`explain (analyze, buffers off, costs on) ${sql}`, params);
  console.log(`\n### ${name}\n${plan.rows.map((r) => r["QUERY PLAN"]).join("\n")}`);
}
const { sql } = deliveryLogQuery(t.postern.ctx.db, app.id, { status: "failed", limit: 25 }).toSQL();
console.log("\nSQL:", sql);
await client.end();
await t.close();
// drop the database this script created
const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
await admin.connect();
await admin.query(`drop database if exists ${new URL(t.databaseUrl!).pathname.slice(1)} with (force)`);
await admin.end();
