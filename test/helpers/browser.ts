import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

/** Debian's Chromium (`apt-get install -y chromium`; .ci/run installs it). Never a downloaded browser. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Browser tests run where Chromium is installed, and always in CI (where its absence is a failure). */
export const BROWSER_AVAILABLE = existsSync(CHROMIUM) || process.env.CI === 'true';

export const SCREENSHOTS = join(import.meta.dirname, '..', '..', '.tmp', 'screenshots');

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    // Without the background-networking flags Chromium calls Google's hosts at start, which this closed network refuses.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
}

/** What a page did that it should not: CSP violations, script errors, requests to hosts other than `allowed`. */
export interface PageProblems {
  console: string[];
  foreignRequests: string[];
}

/** A fresh browser context (no cookies) at desktop size, recording problems of every page opened in it. */
export async function newWatchedContext(
  browser: Browser,
  allowedOrigins: string[],
  options: { colorScheme?: 'light' | 'dark'; width?: number; height?: number } = {},
): Promise<{ context: BrowserContext; page: Page; problems: PageProblems }> {
  const context = await browser.newContext({
    viewport: { width: options.width ?? 1280, height: options.height ?? 860 },
    colorScheme: options.colorScheme ?? 'light',
    timezoneId: 'Europe/Paris',
    locale: 'en-GB',
    permissions: ['clipboard-read', 'clipboard-write'],
  });
  const problems: PageProblems = { console: [], foreignRequests: [] };
  context.on('page', (page) => watch(page, problems, allowedOrigins));
  const page = await context.newPage();
  return { context, page, problems };
}

function watch(page: Page, problems: PageProblems, allowedOrigins: string[]): void {
  page.on('console', (message) => {
    // A 4xx the app asked for (signed out, a draft the API refuses while typing) is Chrome's note, not an error.
    if (
      message.type() === 'error' &&
      !/Failed to load resource: the server responded with a status of 4\d\d/.test(message.text())
    ) {
      problems.console.push(message.text());
    }
  });
  page.on('pageerror', (error) => problems.console.push(`page error: ${error.message}`));
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.protocol === 'data:' || url.protocol === 'blob:') return;
    if (!allowedOrigins.includes(url.origin)) problems.foreignRequests.push(request.url());
  });
}

const AXE_SOURCE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** Runs axe-core in the page and answers its serious and critical violations. The app's CSP stays on. */
export async function seriousA11yViolations(page: Page): Promise<AxeViolation[]> {
  // Evaluated through the DevTools protocol: an injected <script> tag would be refused by the CSP (rightly).
  await page.evaluate(readFileSync(AXE_SOURCE, 'utf8'));
  const violations = await page.evaluate<AxeViolation[]>(`axe
    .run(document, { resultTypes: ['violations'] })
    .then((result) => result.violations.map((violation) => ({
      id: violation.id,
      impact: violation.impact,
      help: violation.help,
      nodes: violation.nodes.map((node) => ({ target: node.target })),
    })))`);
  return violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical');
}

/** Saves a full-page screenshot as `.tmp/screenshots/<name>.png` (the run keeps them for review). */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
