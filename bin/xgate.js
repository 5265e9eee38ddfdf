#!/usr/bin/env -S node --max-semi-space-size=2
// --max-semi-space-size=2 (MB; also in `npm start`): V8's young generation otherwise grows to 2 × 16 MB during
// start-up and never gives it back (README, Memory).
// `npm ci` builds dist/ (scripts/build.js); when it is missing or older than the sources, tsx compiles the
// TypeScript sources on load instead, so a checkout always runs what it holds.
import { buildIsFresh } from './build-state.js';

if (buildIsFresh()) {
  await import('../dist/xgate.js');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
