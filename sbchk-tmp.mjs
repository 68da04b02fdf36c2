import { PGlite } from "@electric-sql/pglite";
const a = await PGlite.create({ postgresqlconf: ["shared_buffers = 16MB"] });
const dump = await a.dumpDataDir("none");
const b = await PGlite.create({ loadDataDir: dump, postgresqlconf: ["shared_buffers = 16MB"] });
console.log((await a.query("show shared_buffers")).rows, (await b.query("show shared_buffers")).rows, Math.round(process.memoryUsage().rss/1e6));
