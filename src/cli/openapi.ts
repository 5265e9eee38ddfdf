import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../config/index.ts';
import { createApp } from '../server.ts';

export { OPENAPI_PATH } from './openapi-path.ts';

/**
 * The service's OpenAPI document, as `/openapi.json` serves it, built from the route schemas of an app over
 * an in-memory database (nothing listens, nothing is written outside a temp dir). Serialised stably.
 */
export async function generateOpenApi(): Promise<string> {
  const dataDir = mkdtempSync(join(tmpdir(), 'xgate-openapi-'));
  try {
    const config = loadConfig({
      DATABASE_URL: 'sqlite::memory:',
      XGATE_DATA_DIR: dataDir,
      XGATE_SECRET_KEY: randomBytes(32).toString('base64'),
      X_CLIENT_ID: 'openapi',
      LOG_LEVEL: 'silent',
    });
    const app = await createApp(config, { worker: false });
    try {
      const http = app.http!;
      await http.ready();
      return `${JSON.stringify(http.swagger(), null, 2)}\n`;
    } finally {
      await app.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
