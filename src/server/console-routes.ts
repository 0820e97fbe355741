/**
 * The web console's files, served at `/` and `/assets/<file>` on the API's own origin
 * (docs/reference/console.md). The console is a static single-page app built by Vite into
 * `dist/console/` when `npm ci` runs (`prepare`); it talks only to the HTTP API.
 *
 * The files are read once, when the routes are made: a server serves the build it started with,
 * and a request never touches the file system. Only names listed then are served, so a path can
 * name nothing outside the folder (no traversal by construction), and an unknown name is 404.
 * When the build is missing the server still starts, and `/` says how to build it.
 */
import { type Dirent, readdirSync, readFileSync, statSync } from "node:fs";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { ApiError } from "./api-errors.ts";
import { type RouteAnswer, type RouteSpec, route } from "./route.ts";

/** Where `npm run build:console` writes the console (gitignored). */
export const CONSOLE_DIRECTORY = fileURLToPath(new URL("../../dist/console/", import.meta.url));

/** Limits on what is loaded (STYLE rule 9): a build is a few files of a few hundred KiB. */
export const CONSOLE_LIMITS = {
  filesMax: 200,
  fileBytesMax: 5 * 1024 * 1024,
  totalBytesMax: 20 * 1024 * 1024,
  fileNameLengthMax: 128,
} as const;

/** The content types served; a file of another kind in the build is not served. */
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".json": "application/json; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
};

/**
 * The page may load and call nothing but its own origin: no CDN, font host or analytics can be
 * reached even by mistake, and no other site may frame it.
 */
export const CONSOLE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

export interface ConsoleAsset {
  readonly body: Buffer;
  readonly contentType: string;
}

export interface ConsoleBuild {
  /** `index.html`, or undefined when the console is not built. */
  readonly index: Buffer | undefined;
  /** The files of `assets/`, by name. */
  readonly assets: ReadonlyMap<string, ConsoleAsset>;
  /** Why the build could not be used, when it could not. */
  readonly problem: string | undefined;
}

/** Reads a build folder; never throws (a server without its console still serves the API). */
export function loadConsoleBuild(directory: string = CONSOLE_DIRECTORY): ConsoleBuild {
  const none = (problem: string): ConsoleBuild => ({
    index: undefined,
    assets: new Map(),
    problem,
  });
  let index: Buffer;
  try {
    index = readFileSync(join(directory, "index.html"));
  } catch {
    return none(`${join(directory, "index.html")} does not exist`);
  }
  const assets = new Map<string, ConsoleAsset>();
  let entries: Dirent[];
  try {
    entries = readdirSync(join(directory, "assets"), { withFileTypes: true });
  } catch {
    entries = [];
  }
  let totalBytes = index.length;
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const contentType = CONTENT_TYPES[extname(entry.name)];
    if (contentType === undefined || entry.name.length > CONSOLE_LIMITS.fileNameLengthMax) continue;
    if (assets.size >= CONSOLE_LIMITS.filesMax) {
      return none(`the build has more than ${CONSOLE_LIMITS.filesMax} files`);
    }
    const path = join(directory, "assets", entry.name);
    const bytes = statSync(path).size;
    totalBytes += bytes;
    if (bytes > CONSOLE_LIMITS.fileBytesMax || totalBytes > CONSOLE_LIMITS.totalBytesMax) {
      return none(`the build is larger than the console's limits (${entry.name})`);
    }
    assets.set(entry.name, { body: readFileSync(path), contentType });
  }
  return { index, assets, problem: undefined };
}

/** What `/` answers when the console is not built: how to build it, and where the API is. */
export function notBuiltPage(problem: string): string {
  const shown = problem.replace(/[&<>"]/g, (character) => `&#${character.charCodeAt(0)};`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Bursar — console not built</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;line-height:1.5;color:#1d232a}code{background:#eef1f4;padding:0 .25rem}</style>
</head><body>
<h1>Bursar</h1>
<p><strong>The web console is not built</strong>, so this server cannot show it (${shown}).</p>
<p>It is built by <code>npm ci</code> (the <code>prepare</code> script). To build it by hand, run
<code>npm run build:console</code> in the repository, then restart <code>bursar serve</code>.</p>
<p>The HTTP API works without it: its reference is at <a href="/docs">/docs</a>, its OpenAPI 3.1
document at <a href="/openapi.json">/openapi.json</a>; liveness at <a href="/healthz">/healthz</a>,
readiness at <a href="/readyz">/readyz</a>.</p>
</body></html>
`;
}

const assetParams = z.strictObject({
  file: z.string().min(1).max(CONSOLE_LIMITS.fileNameLengthMax),
});

/** `/` and `/assets/:file`: the console, or the page that says how to build it. */
export function consoleRoutes(build: ConsoleBuild = loadConsoleBuild()): RouteSpec[] {
  const home: RouteAnswer =
    build.index === undefined
      ? {
          body: notBuiltPage(build.problem ?? "no build"),
          headers: { "cache-control": "no-cache" },
        }
      : {
          body: build.index,
          headers: {
            // The page names its hashed assets: always revalidated, so a new build shows at once.
            "cache-control": "no-cache",
            "content-security-policy": CONSOLE_CSP,
            "x-content-type-options": "nosniff",
            "referrer-policy": "no-referrer",
          },
        };
  return [
    route({
      method: "GET",
      url: "/",
      operationId: "console",
      summary:
        "The web console (a single-page app over this API; docs/reference/console.md), or, when it is not built, a page saying how to build it that links the API's reference.",
      tag: "operations",
      access: "public",
      rateClass: "none",
      responses: { 200: "HTML." },
      handle: () => ({ ...home, contentType: "text/html; charset=utf-8" }),
    }),
    route<z.infer<typeof assetParams>, undefined, undefined>({
      method: "GET",
      url: "/assets/:file",
      operationId: "consoleAsset",
      summary:
        "One file of the console's build (script, style sheet, image); names carry a content hash, so they are cached for a year.",
      tag: "operations",
      access: "public",
      params: assetParams,
      rateClass: "none",
      responses: { 200: "The file, with its content type." },
      handle: ({ params }) => {
        const asset = build.assets.get(params.file);
        if (asset === undefined) throw ApiError.of("not_found", "no such console file");
        return {
          body: asset.body,
          contentType: asset.contentType,
          headers: {
            "cache-control": "public, max-age=31536000, immutable",
            "x-content-type-options": "nosniff",
          },
        };
      },
    }),
  ];
}
