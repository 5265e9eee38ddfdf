import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { gzipSync } from 'node:zlib';
import { packageRoot } from '../package-root.ts';

/** One file of the built web app, held in memory with its gzip form (compressed once, at start). */
export interface WebFile {
  body: Buffer;
  gzip: Buffer | null;
  type: string;
  etag: string;
}

/** The built web app: its files by URL path (`/index.html`, `/assets/index-3f2a.js`, …). */
export type WebBuild = ReadonlyMap<string, WebFile>;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json',
};

/** Where `npm run build` puts the web app (web/vite.config.ts). */
export function webBuildDirectory(): string {
  return join(packageRoot(), 'dist', 'web');
}

/**
 * Reads the built web app into memory, or null when it has not been built. `sandbox` is written into
 * index.html as a meta tag, so the app knows without a request (and without an inline script).
 */
export function loadWebBuild(options: { sandbox: boolean; directory?: string }): WebBuild | null {
  const directory = options.directory ?? webBuildDirectory();
  if (!existsSync(join(directory, 'index.html'))) return null;
  const files = new Map<string, WebFile>();
  for (const entry of readdirSync(directory, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    const urlPath = `/${relative(directory, path).split(sep).join('/')}`;
    let body = readFileSync(path);
    if (urlPath === '/index.html') {
      body = Buffer.from(
        body
          .toString('utf8')
          .replace(
            '<meta charset="utf-8">',
            `<meta charset="utf-8">\n    <meta name="xgate-sandbox" content="${options.sandbox}">`,
          ),
      );
    }
    const type = TYPES[extname(path)] ?? 'application/octet-stream';
    const compressible = /^(text\/|application\/json|image\/svg)/.test(type) && body.length > 1024;
    files.set(urlPath, {
      body,
      gzip: compressible ? gzipSync(body, { level: 9 }) : null,
      type,
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
    });
  }
  return files;
}
