/**
 * `/docs`: the OpenAPI document as one readable HTML page, rendered on the server with no script
 * and no external request (the console and the docs work on a closed network).
 */
interface Operation {
  readonly operationId: string;
  readonly summary: string;
  readonly tags: readonly string[];
  readonly "x-bursar-roles": readonly string[];
  readonly parameters: readonly { name: string; in: string; required: boolean }[];
  readonly requestBody?: { content: { "application/json": { schema: unknown } } };
  readonly responses: Readonly<Record<string, { description: string }>>;
}

function escapeHtml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");
}

export function docsPage(document: Record<string, unknown>): string {
  const info = document.info as { title: string; version: string; description: string };
  const paths = document.paths as Record<string, Record<string, Operation>>;
  const byTag = new Map<string, string[]>();
  for (const [path, operations] of Object.entries(paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const roles = operation["x-bursar-roles"];
      const parameters = operation.parameters
        .map((parameter) => `<code>${escapeHtml(parameter.name)}</code> (${parameter.in})`)
        .join(", ");
      const body = operation.requestBody?.content["application/json"].schema;
      const section = `<section id="${escapeHtml(operation.operationId)}">
<h3><span class="method">${method.toUpperCase()}</span> <code>${escapeHtml(path)}</code></h3>
<p>${escapeHtml(operation.summary)}</p>
<p><strong>Roles:</strong> ${roles.length === 0 ? "public" : roles.map((role) => `<code>${escapeHtml(role)}</code>`).join(" ")}${parameters === "" ? "" : ` · <strong>Parameters:</strong> ${parameters}`}</p>
${body === undefined ? "" : `<details><summary>Request body schema</summary><pre>${escapeHtml(JSON.stringify(body, null, 2))}</pre></details>`}
<ul>${Object.entries(operation.responses)
        .map(
          ([status, response]) =>
            `<li><code>${escapeHtml(status)}</code> ${escapeHtml(response.description)}</li>`,
        )
        .join("")}</ul>
</section>`;
      const tag = operation.tags[0] ?? "other";
      byTag.set(tag, [...(byTag.get(tag) ?? []), section]);
    }
  }
  const sections = [...byTag]
    .map(([tag, entries]) => `<h2>${escapeHtml(tag)}</h2>\n${entries.join("\n")}`)
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(info.title)} ${escapeHtml(info.version)}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.45;color:#1d232a}
code,pre{font-family:ui-monospace,monospace;font-size:.9em}pre{background:#f4f5f7;padding:.75rem;overflow:auto;max-height:24rem}
section{border-top:1px solid #dde1e6;padding:.5rem 0}.method{display:inline-block;min-width:4rem;font-family:ui-monospace,monospace;color:#0b5cad}
</style></head><body>
<h1>${escapeHtml(info.title)} <small>${escapeHtml(info.version)}</small></h1>
<p>${escapeHtml(info.description)}</p>
<p>The machine-readable document is <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1).</p>
${sections}
</body></html>
`;
}
