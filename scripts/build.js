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

/**
 * `await import('x')` of a CommonJS package from bundled CommonJS code (@fastify/cookie imports `cookie` so): Node
 * would give the package's exports as named exports, esbuild's chunk gives only `default`. This serves those imports
 * a module that re-exports the package's properties by name.
 */
function cjsDynamicImportNamedExports(packages) {
  const filter = new RegExp(`^(${packages.join('|')})$`);
  return {
    name: 'cjs-dynamic-import-named-exports',
    setup(build) {
      build.onResolve({ filter }, (args) =>
        args.kind === 'dynamic-import'
          ? { path: args.path, namespace: 'named-exports', pluginData: args.resolveDir }
          : undefined,
      );
      build.onLoad({ filter: /.*/, namespace: 'named-exports' }, async (args) => {
        const { createRequire } = await import('node:module');
        const names = Object.keys(createRequire(join(args.pluginData, 'x.js'))(args.path));
        const contents = `import * as all from ${JSON.stringify(args.path)};
export const { ${names.join(', ')} } = all;
export default all;`;
        return { contents, resolveDir: args.pluginData, loader: 'js' };
      });
    },
  };
}

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
  // The dependencies are bundled too: resolving and loading ~780 modules from node_modules was a quarter of the
  // start-up. Native and build-time packages stay outside.
  external: ['better-sqlite3', 'pg-native', 'esbuild', 'vite', 'tsx'],
  // Bundled CommonJS code calls require() for Node's built-in modules.
  banner: {
    js: "import { createRequire as __xgateRequire } from 'node:module'; const require = __xgateRequire(import.meta.url);",
  },
  plugins: [cjsDynamicImportNamedExports(['cookie'])],
  // twitter-text requires Node's deprecated built-in punycode; Node warns about it once the code is outside
  // node_modules, so the bundle takes the userland package of the same API instead.
  alias: { punycode: 'punycode/punycode.js' },
  outdir: out,
  sourcemap: true,
  logLevel: 'warning',
});
// The web app (web/), served by `xgate serve` at `/` from dist/web/.
const { build: buildWebApp } = await import('vite');
await buildWebApp({ configFile: join(ROOT, 'web', 'vite.config.ts'), logLevel: 'warn' });
writeFileSync(STAMP, `${new Date().toISOString()}\n`);
process.stderr.write(`xgate: built dist/ in ${Date.now() - started} ms\n`);
