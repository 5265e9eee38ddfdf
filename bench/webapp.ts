import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const ROOT = join(import.meta.dirname, '..');
const WEB = join(ROOT, 'dist', 'web');

interface ManifestChunk {
  file: string;
  css?: string[];
  imports?: string[];
  dynamicImports?: string[];
  isEntry?: boolean;
}

/**
 * The size of the web app as a browser downloads it (gzip, as `xgate serve` sends it): the first screen of a
 * signed-in user (the entry, its CSS and the composer with X's text library, loaded at once on `/`), and the
 * whole app. Reads Vite's manifest of a fresh build.
 */
export async function run(): Promise<Record<string, unknown>> {
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.js'), '--if-stale'], { stdio: 'inherit' });
  const manifest = JSON.parse(readFileSync(join(WEB, '.vite', 'manifest.json'), 'utf8')) as Record<
    string,
    ManifestChunk
  >;
  const gz = (file: string) => gzipSync(readFileSync(join(WEB, file)), { level: 9 }).length;

  /** Files a chunk needs before it runs: itself, its CSS and its static imports, transitively. */
  const closure = (key: string, into = new Set<string>()): Set<string> => {
    const chunk = manifest[key];
    if (!chunk || into.has(chunk.file)) return into;
    into.add(chunk.file);
    for (const css of chunk.css ?? []) into.add(css);
    for (const imported of chunk.imports ?? []) closure(imported, into);
    return into;
  };
  const firstScreen = closure('index.html');
  closure('src/screens/Compose.tsx', firstScreen);
  const all = new Set(Object.values(manifest).flatMap((chunk) => [chunk.file, ...(chunk.css ?? [])]));
  const sum = (files: Iterable<string>, filter: (file: string) => boolean = () => true) =>
    [...files].filter(filter).reduce((total, file) => total + gz(file), 0);
  const js = (file: string) => file.endsWith('.js');
  return {
    firstScreenJsGzipKb: Math.round(sum(firstScreen, js) / 102.4) / 10,
    firstScreenCssGzipKb: Math.round(sum(firstScreen, (file) => file.endsWith('.css')) / 102.4) / 10,
    wholeAppGzipKb: Math.round(sum(all) / 102.4) / 10,
    files: [...all].map((file) => ({ file, gzipKb: Math.round(gz(file) / 102.4) / 10 })),
  };
}
