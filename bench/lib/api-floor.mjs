// The API bench's floor: the same Fastify on the same PostgreSQL, doing the least a login request
// could — parse the JSON body, one insert into an indexed table through a pool of Postern's size,
// answer 202 — with none of Postern's checks, limits, sealing or queue. Plain JavaScript, run by plain
// Node, like the compiled server.
import { randomUUID } from "node:crypto";
import Fastify from "fastify";
import pg from "pg";

const url = process.env.DATABASE_URL;
if (!url) throw new Error("DATABASE_URL is required");
const pool = new pg.Pool({ connectionString: url, max: Number(process.env.POOL_SIZE ?? 10) });
await pool.query(`create table if not exists floor_logins (
  id text primary key, email text not null, created_at timestamptz not null default now())`);
await pool.query("create index if not exists floor_logins_by_email on floor_logins (email, created_at)");
const app = Fastify();
app.post("/v1/login/email", async (request, reply) => {
  const email = /** @type {{ email?: unknown }} */ (request.body)?.email;
  if (typeof email !== "string") return reply.code(400).send({ code: "invalid_email" });
  const id = randomUUID();
  await pool.query("insert into floor_logins (id, email) values ($1, $2)", [id, email]);
  return reply.code(202).send({ loginId: id });
});
const address = await app.listen({ host: "127.0.0.1", port: 0 });
console.log(`listening ${address}`);
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.once(signal, async () => {
    await app.close();
    await pool.end();
    process.exit(0);
  });
}
