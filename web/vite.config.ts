import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import react from "@vitejs/plugin-react";
import { defineConfig, type Plugin } from "vite";

const webDir = fileURLToPath(new URL(".", import.meta.url));
const outDir = fileURLToPath(new URL("./dist", import.meta.url));

/**
 * Writes a .br and a .gz beside every text asset, once at build time, so the server sends them with
 * @fastify/static's `preCompressed` instead of compressing each response (src/http/server.ts).
 */
function precompress(): Plugin {
  const compressible = /\.(js|css|html|svg|json|txt)$/;
  return {
    name: "postern-precompress",
    apply: "build",
    closeBundle() {
      for (const name of readdirSync(outDir, { recursive: true, encoding: "utf8" })) {
        if (!compressible.test(name)) continue;
        const file = join(outDir, name);
        const bytes = readFileSync(file);
        writeFileSync(
          `${file}.br`,
          brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
        );
        writeFileSync(`${file}.gz`, gzipSync(bytes, { level: 9 }));
      }
    },
  };
}

/** The dashboard is built into web/dist, which the API process serves (src/http/server.ts). */
export default defineConfig({
  root: webDir,
  plugins: [react(), precompress()],
  build: { outDir, emptyOutDir: true },
});
