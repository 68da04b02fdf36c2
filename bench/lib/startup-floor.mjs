// The start-up bench's floor: what the embedded stack itself costs to start, with none of Postern —
// Node, Fastify and PGlite opened on the same data dir with the same settings, answering /readyz
// with a query. Plain JavaScript, run by plain Node, like the compiled server.
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import Fastify from "fastify";

const dataDir = process.env.POSTERN_DATA_DIR;
if (!dataDir) throw new Error("POSTERN_DATA_DIR is required");
const db = await PGlite.create(path.join(dataDir, "pglite"), { postgresqlconf: ["shared_buffers = 16MB"] });
const app = Fastify();
app.get("/readyz", async () => (await db.query("select 1 as ok")).rows[0]);
await app.listen({ host: "127.0.0.1", port: Number(process.env.PORT) });
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.once(signal, async () => {
    await app.close();
    await db.close();
    process.exit(0);
  });
}
