import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * xgate's own folder: the nearest one above this file holding a package.json. The same answer from the sources
 * (src/) and from a build (dist/), so files beside the package (the built web app, package.json) are found either way.
 */
export function packageRoot(): string {
  for (let dir = import.meta.dirname; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`No package.json above ${import.meta.dirname}`);
  }
}
