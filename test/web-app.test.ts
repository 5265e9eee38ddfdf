import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WEB_APP_PATHS } from '../src/web/web.routes.ts';
import { loadWebBuild } from '../src/web/web-build.ts';
import {
  createHttpClient,
  makeSignedInUser,
  makeTempDir,
  SESSION_COOKIE,
  startTestService,
  type TestService,
} from './helpers/index.ts';

const ROOT = join(import.meta.dirname, '..');

describe('serving the web app', () => {
  const temp = makeTempDir('xgate-webapp-');
  let service: TestService;

  beforeAll(async () => {
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.js'), '--if-stale'], {
      cwd: ROOT,
      stdio: 'inherit',
    });
    service = await startTestService({
      databaseUrl: `sqlite://${join(temp.path, 'db.sqlite')}`,
      dataDir: join(temp.path, 'data'),
    });
  }, 120_000);
  afterAll(async () => {
    await service?.stop();
    temp.remove();
  });

  it('answers every page of the app with its index.html, under a CSP without inline script', async () => {
    const client = createHttpClient(service.url);
    for (const path of WEB_APP_PATHS) {
      const page = await client.get(path);
      expect(page.status, path).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      expect(page.headers.get('cache-control')).toBe('no-cache');
      expect(page.text).toContain('<div id="root"></div>');
      // Not in sandbox mode here: the app is told so without a request.
      expect(page.text).toContain('<meta name="xgate-sandbox" content="false">');
      const csp = page.headers.get('content-security-policy') ?? '';
      expect(csp).toMatch(/script-src 'self'(;|$)/);
      expect(csp).toContain("style-src 'self'");
      expect(csp).toContain("object-src 'none'");
      // Every script is a file of this origin.
      const scripts = [...page.text.matchAll(/<script([^>]*)>/g)].map((match) => match[1] ?? '');
      expect(scripts.length).toBeGreaterThan(0);
      for (const attributes of scripts) expect(attributes).toMatch(/ src="\/assets\/[^"]+\.js"/);
    }
  });

  it('serves the fingerprinted files gzipped, cached for a year, revalidated by ETag', async () => {
    const client = createHttpClient(service.url);
    const page = await client.get('/');
    const files = [...page.text.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((match) => match[1]!);
    expect(files.some((file) => file.endsWith('.js'))).toBe(true);
    expect(files.some((file) => file.endsWith('.css'))).toBe(true);
    for (const file of files) {
      const answer = await fetch(`${service.url}${file}`, { headers: { 'accept-encoding': 'gzip' } });
      expect(answer.status, file).toBe(200);
      expect(answer.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(answer.headers.get('content-encoding')).toBe('gzip');
      expect((await answer.text()).length).toBeGreaterThan(100);
      const again = await fetch(`${service.url}${file}`, {
        headers: { 'if-none-match': answer.headers.get('etag') ?? '' },
      });
      expect(again.status).toBe(304);
    }
  });

  it('answers 404 for files it does not have, and never reads outside the build', async () => {
    for (const path of [
      '/assets/nope.js',
      '/assets/../package.json',
      '/assets/%2e%2e/package.json',
      '/nope',
    ]) {
      const answer = await fetch(`${service.url}${path}`);
      expect(answer.status, path).toBe(404);
      expect(await answer.text()).not.toContain('"name": "xgate"');
    }
  });

  it('is not part of the OpenAPI document', async () => {
    const doc = (await createHttpClient(service.url).get('/openapi.json')).json;
    for (const path of [...WEB_APP_PATHS, '/assets/{*}']) expect(Object.keys(doc.paths)).not.toContain(path);
  });

  it('the sandbox timeline is a 404 `sandbox_only` when xgate talks to the real X', async () => {
    const { cookie } = await makeSignedInUser(service.app.deps);
    const client = createHttpClient(service.url);
    client.setCookie(SESSION_COOKIE, cookie);
    const answer = await client.get('/api/v1/sandbox/timeline?accountId=whatever');
    expect(answer.status).toBe(404);
    expect(answer.json.error.code).toBe('sandbox_only');
    expect((await createHttpClient(service.url).get('/api/v1/sandbox/timeline?accountId=x')).status).toBe(
      401,
    );
  });
});

describe('loading a build', () => {
  it('is null without one (the pages then say how to build it), and reads every file of one', () => {
    const temp = makeTempDir('xgate-webbuild-');
    expect(loadWebBuild({ sandbox: true, directory: temp.path })).toBeNull();
    mkdirSync(join(temp.path, 'assets'));
    writeFileSync(join(temp.path, 'index.html'), '<html><head><meta charset="utf-8"></head></html>');
    writeFileSync(join(temp.path, 'assets', 'app.js'), `console.log(${JSON.stringify('x'.repeat(5000))})`);
    const build = loadWebBuild({ sandbox: true, directory: temp.path });
    expect([...(build?.keys() ?? [])].sort()).toEqual(['/assets/app.js', '/index.html']);
    expect(build?.get('/index.html')?.body.toString()).toContain(
      '<meta name="xgate-sandbox" content="true">',
    );
    expect(build?.get('/assets/app.js')?.gzip?.length).toBeLessThan(200);
    temp.remove();
  });
});
