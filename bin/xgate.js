#!/usr/bin/env -S node --max-semi-space-size=2
// --max-semi-space-size=2 (MB; also in `npm start`): V8's young generation otherwise grows to 2 × 16 MB during
// start-up and never gives it back (README, Memory).
// `npm ci` builds dist/ (scripts/build.js); when it is missing or older than the sources, tsx compiles the
// TypeScript sources on load instead, so a checkout always runs what it holds.
import module from 'node:module';
import { buildIsFresh } from './build-state.js';

// Node.js 22.1+: keep V8's compiled code of every module on disk (in the OS temp dir), so later starts skip most of
// the compiling that start-up time is made of. Older versions have no cache and start as before.
module.enableCompileCache?.();

if (buildIsFresh()) {
  await import('../dist/xgate.js');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
