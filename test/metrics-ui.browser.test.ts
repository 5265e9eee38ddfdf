import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOUR_MS } from '../src/metrics/schedule.ts';
import { SESSION_COOKIE } from '../src/users/sessions.ts';
import { type DeliveryHarness, serveHarness, startDeliveryHarness } from './delivery.harness.ts';
import {
  BROWSER_AVAILABLE,
  launchChromium,
  newWatchedContext,
  screenshot,
  seriousA11yViolations,
} from './helpers/browser.ts';
import { makeSessionCookie, makeTempDir } from './helpers/index.ts';

const ROOT = join(import.meta.dirname, '..');

/** The metrics dashboard and a post's chart in Chromium, over ten days of metrics the collector really read. */
describe.skipIf(!BROWSER_AVAILABLE)('metrics in the web app', () => {
  const temp = makeTempDir('xgate-metrics-ui-');
  let h: DeliveryHarness;
  let http: Awaited<ReturnType<typeof serveHarness>>;
  let url: string;
  let browser: Browser;

  beforeAll(async () => {
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.js'), '--if-stale'], {
      cwd: ROOT,
      stdio: 'inherit',
    });
    h = await startDeliveryHarness({
      dialect: 'sqlite',
      databaseUrl: `sqlite:${join(temp.path, 'xgate.db')}`,
      dataDir: temp.path,
    });
    http = await serveHarness(h);
    url = http.url;
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await http?.close();
    await h?.close();
    temp.remove();
  });

  it('shows impressions and engagements per day, the top posts and the reads line; a post’s chart in History', async () => {
    const account = await h.makeAccount('dashboard_demo');
    const collector = h.deps.metricsCollector();
    for (let day = 0; day < 10; day++) {
      for (let i = 0; i < 3; i++)
        await h.makePost(account, [{ text: `Day ${day + 1}, post ${i + 1}: what we shipped.` }]);
      await h.drain();
      for (let hour = 0; hour < 24; hour++) {
        h.clock.advance(HOUR_MS);
        while ((await collector.runOnce()) > 0) {}
      }
    }
    const cookie = await makeSessionCookie(h.deps, account.userId);

    for (const colorScheme of ['light', 'dark'] as const) {
      const { page, context, problems } = await newWatchedContext(browser, [url, h.emu.url], { colorScheme });
      await context.addCookies([{ name: SESSION_COOKIE, value: cookie, url }]);
      await page.goto(`${url}/dashboard`);
      await page.getByRole('heading', { name: 'Impressions per day (UTC)' }).waitFor();
      await page.locator('.chart canvas').first().waitFor();
      expect(await page.locator('.chart canvas').count()).toBe(2);
      expect(await page.locator('table.table tbody tr').count()).toBe(5);
      await expect.poll(() => page.locator('.reads-line').textContent()).toMatch(/Metric reads today: \d+/);
      // Values on hover: the legend shows the day under the pointer.
      const box = (await page.locator('.chart .u-over').first().boundingBox())!;
      await page.mouse.move(box.x + box.width * 0.8, box.y + box.height / 2);
      await expect
        .poll(() => page.locator('.chart .u-legend').first().textContent())
        .toMatch(/Impressions[\d,]+/);
      expect(await seriousA11yViolations(page)).toEqual([]);
      await screenshot(page, `dashboard-desktop-${colorScheme}`);

      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'History' }).click();
      await page.locator('.trend svg').first().waitFor();
      await page.getByRole('button', { name: 'Metrics' }).first().click();
      await page.locator('.post-metrics .chart canvas').waitFor();
      expect(await seriousA11yViolations(page)).toEqual([]);
      await screenshot(page, `history-metrics-desktop-${colorScheme}`);
      expect(problems.console).toEqual([]);
      expect(problems.foreignRequests).toEqual([]);
      await context.close();
    }
  }, 120_000);
});
