/**
 * Builds the web console (docs/reference/console.md) into dist/console/, which `bursar serve`
 * serves at `/` (src/server/console-routes.ts). Run by `npm run build:console`, and by `prepare`
 * on `npm ci`, so a fresh clone has it without a separate step. Everything the page needs is in
 * the bundle: no font, script or style is loaded from elsewhere.
 */
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const root = fileURLToPath(new URL(".", import.meta.url));

export default defineConfig({
  root,
  base: "/",
  publicDir: false,
  logLevel: "warn",
  build: {
    outDir: fileURLToPath(new URL("../dist/console/", import.meta.url)),
    emptyOutDir: true,
    assetsDir: "assets",
    target: "es2022",
    sourcemap: false,
    // Small images stay files rather than data: URLs the content security policy would refuse.
    assetsInlineLimit: 0,
  },
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  // `npm run console:dev`: the API of a `bursar serve` on its default address, same origin.
  server: {
    proxy: Object.fromEntries(
      ["/v1", "/metrics", "/healthz", "/readyz", "/docs", "/openapi.json"].map((path) => [
        path,
        "http://127.0.0.1:8080",
      ]),
    ),
  },
});
