import { escapeHtml } from './html.ts';

/** Minimal shape of the OpenAPI 3 document this page needs. */
interface OpenApiDocument {
  info?: { title?: string; version?: string; description?: string };
  paths?: Record<string, Record<string, OpenApiOperation>>;
}
interface OpenApiOperation {
  summary?: string;
  description?: string;
  tags?: string[];
  parameters?: { name: string; in: string; required?: boolean; description?: string; schema?: unknown }[];
  requestBody?: { content?: Record<string, { schema?: unknown }> };
  responses?: Record<string, { description?: string; content?: Record<string, { schema?: unknown }> }>;
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

function schemaBlock(schema: unknown): string {
  return `<pre>${escapeHtml(JSON.stringify(schema, null, 2))}</pre>`;
}

function renderOperation(path: string, method: string, op: OpenApiOperation): string {
  const parts = [
    `<section class="op" id="${escapeHtml(`${method}-${path}`)}">`,
    `<h3><span class="m ${method}">${method.toUpperCase()}</span> <code>${escapeHtml(path)}</code></h3>`,
  ];
  if (op.summary) parts.push(`<p>${escapeHtml(op.summary)}</p>`);
  if (op.description) parts.push(`<p>${escapeHtml(op.description)}</p>`);
  if (op.parameters?.length) {
    parts.push('<h4>Parameters</h4><table><tr><th>name</th><th>in</th><th>required</th><th>schema</th></tr>');
    for (const p of op.parameters) {
      parts.push(
        `<tr><td><code>${escapeHtml(p.name)}</code></td><td>${escapeHtml(p.in)}</td><td>${p.required ? 'yes' : 'no'}</td><td><code>${escapeHtml(JSON.stringify(p.schema ?? {}))}</code></td></tr>`,
      );
    }
    parts.push('</table>');
  }
  for (const [type, media] of Object.entries(op.requestBody?.content ?? {})) {
    parts.push(`<h4>Request body <small>${escapeHtml(type)}</small></h4>${schemaBlock(media.schema ?? {})}`);
  }
  for (const [status, response] of Object.entries(op.responses ?? {})) {
    parts.push(`<h4>Response ${escapeHtml(status)}</h4>`);
    if (response.description) parts.push(`<p>${escapeHtml(response.description)}</p>`);
    for (const media of Object.values(response.content ?? {})) {
      if (media.schema) parts.push(schemaBlock(media.schema));
    }
  }
  parts.push('</section>');
  return parts.join('\n');
}

/**
 * Renders the OpenAPI document as one self-contained HTML page (no scripts, no CDN): every operation with
 * its parameters, request body and responses.
 */
export function renderDocsPage(doc: OpenApiDocument): string {
  const ops: { path: string; method: string; op: OpenApiOperation }[] = [];
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const method of METHODS) {
      const op = item[method];
      if (op) ops.push({ path, method, op });
    }
  }
  const title = `${doc.info?.title ?? 'API'} ${doc.info?.version ?? ''}`.trim();
  const index = ops
    .map(
      ({ path, method }) =>
        `<li><a href="#${escapeHtml(`${method}-${path}`)}"><span class="m ${method}">${method.toUpperCase()}</span> ${escapeHtml(path)}</a></li>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:15px/1.5 system-ui,sans-serif;margin:0 auto;max-width:960px;padding:1rem 2rem;color:#1a1a1a}
code,pre{font:13px ui-monospace,monospace}pre{background:#f5f5f7;padding:.75rem;overflow:auto;border-radius:6px}
.op{border-top:1px solid #ddd;padding:.5rem 0}.m{display:inline-block;min-width:4.5em;font-weight:700}
.get{color:#0a6}.post{color:#06c}.patch,.put{color:#b70}.delete{color:#c22}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:left}
ul{list-style:none;padding:0}a{text-decoration:none}
</style></head><body>
<h1>${escapeHtml(title)}</h1>
${doc.info?.description ? `<p>${escapeHtml(doc.info.description)}</p>` : ''}
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a></p>
<ul>${index}</ul>
${ops.map(({ path, method, op }) => renderOperation(path, method, op)).join('\n')}
</body></html>`;
}
