#!/usr/bin/env -S node --max-semi-space-size=2
// --max-semi-space-size=2 (MB; also in `npm start`): V8's young generation otherwise grows to 2 × 16 MB while tsx
// compiles the sources at start-up and never gives it back, ~50 MB of an idle `xgate serve` (README, Memory).
// The package ships TypeScript sources; tsx compiles them on load so there is no build step to forget.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
