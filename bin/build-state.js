// Whether dist/ (made by scripts/build.js) holds a build of the current sources. Plain JavaScript: it runs before
// any TypeScript loader, and costs a few milliseconds (one stat per source file).
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..');
export const STAMP = join(ROOT, 'dist', '.build-stamp');

/** True when dist/ was built after every file under src/, emulator/ and web/ last changed. */
export function buildIsFresh() {
  let built;
  try {
    built = statSync(STAMP).mtimeMs;
  } catch {
    return false;
  }
  for (const folder of ['src', 'emulator', 'web']) {
    for (const entry of readdirSync(join(ROOT, folder), { recursive: true, withFileTypes: true })) {
      if (entry.isFile() && statSync(join(entry.parentPath ?? entry.path, entry.name)).mtimeMs > built)
        return false;
    }
  }
  return true;
}
