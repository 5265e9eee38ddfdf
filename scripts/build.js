// `npm run build` (also run by `npm ci` through `prepare`, and by `npm start` when the sources changed): compiles
// the service to plain JavaScript in dist/, so `xgate` starts without compiling TypeScript at run time (faster,
// and ~30 MB less memory). Without dist/, or when it is older than the sources, bin/xgate.js runs the TypeScript
// sources through tsx instead: a checkout always runs what it holds.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildIsFresh, ROOT, STAMP } from '../bin/build-state.js';

if (process.argv.includes('--if-stale') && buildIsFresh()) process.exit(0);
// Loaded only when there is something to build: `npm start` pays for the check alone.
const { build } = await import('esbuild');

const out = join(ROOT, 'dist');
const started = Date.now();
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  absWorkingDir: ROOT,
  entryPoints: {
    xgate: 'src/cli/main.ts',
    // The text pool's worker thread: src/posts/text-workers.ts starts `./text-worker.js` next to itself.
    'text-worker': 'src/posts/text-worker-main.ts',
  },
  bundle: true,
  // The server's code stays in chunks loaded on first use, so the command-line client starts small.
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  outdir: out,
  sourcemap: true,
  logLevel: 'warning',
});
// The web app (web/), served by `xgate serve` at `/` from dist/web/.
const { build: buildWebApp } = await import('vite');
await buildWebApp({ configFile: join(ROOT, 'web', 'vite.config.ts'), logLevel: 'warn' });
writeFileSync(STAMP, `${new Date().toISOString()}\n`);
process.stderr.write(`xgate: built dist/ in ${Date.now() - started} ms\n`);
