import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BROWSER_AVAILABLE,
  launchChromium,
  newWatchedContext,
  type PageProblems,
  screenshot,
  seriousA11yViolations,
} from './helpers/browser.ts';
import { spawnXgate, stopChild, waitUntilReady, type XgateProcess } from './helpers/cli.ts';
import { freePort, makeTempDir } from './helpers/index.ts';

const ROOT = join(import.meta.dirname, '..');

/** A thread item's text box by its label ("Your post", "Tweet 2 of 3"). */
const textbox = (page: Page, label: string) => page.getByRole('textbox', { name: label, exact: true });
/** A GET of the API from the page, with its session cookie. */
const apiGet = <T>(page: Page, path: string) =>
  page.evaluate(async (target) => (await fetch(target)).json(), path) as Promise<T>;
/** A link of the main navigation. */
const navLink = (page: Page, name: string) =>
  page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name });

interface EmulatorTweet {
  id: string;
  authorId: string;
  text: string;
  inReplyToTweetId: string | null;
  mediaIds: string[];
  deletedAt: number | null;
}

/**
 * The web app in real Chromium against a real `xgate serve` in sandbox mode (its X emulator in-process): what a
 * person does, screen by screen, with the accessibility audit and the CSP on every screen.
 */
describe.skipIf(!BROWSER_AVAILABLE)('the web app in Chromium', () => {
  const temp = makeTempDir('xgate-web-');
  let server: XgateProcess;
  let browser: Browser;
  let url: string;
  let emulatorUrl: string;
  const allPages: PageProblems[] = [];

  beforeAll(async () => {
    // The tests use the built app, as `npm start` serves it.
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.js'), '--if-stale'], {
      cwd: ROOT,
      stdio: 'inherit',
    });
    const [port, emulatorPort] = [await freePort(), await freePort()];
    url = `http://127.0.0.1:${port}`;
    emulatorUrl = `http://127.0.0.1:${emulatorPort}`;
    server = spawnXgate(['serve'], {
      PORT: String(port),
      XGATE_SANDBOX_EMULATOR_PORT: String(emulatorPort),
      XGATE_DATA_DIR: join(temp.path, 'data'),
      LOG_LEVEL: 'warn',
    });
    await waitUntilReady(url, server);
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    if (server) await stopChild(server.process);
    temp.remove();
    for (const problems of allPages) {
      expect(problems.console, 'console errors (CSP violations, script errors)').toEqual([]);
      expect(problems.foreignRequests, 'requests to other hosts').toEqual([]);
    }
  });

  async function newUserPage(options: { colorScheme?: 'light' | 'dark'; width?: number } = {}) {
    const watched = await newWatchedContext(browser, [url, emulatorUrl], options);
    allPages.push(watched.problems);
    return watched;
  }

  /** Signs in through the emulator's consent page as `username` (created at first, picked afterwards). */
  async function signIn(page: Page, username: string) {
    await page.goto(url);
    await page.getByRole('link', { name: 'Sign in with X' }).click();
    await page.waitForURL(`${emulatorUrl}/**`);
    await consent(page, username);
    await page.getByRole('heading', { name: 'Compose', level: 2 }).waitFor();
  }

  async function consent(page: Page, username: string) {
    const existing = page.getByRole('radio', { name: new RegExp(`@${username}\\b`) });
    if ((await existing.count()) > 0) {
      await existing.check();
    } else {
      await page.getByRole('radio', { name: /a new user/ }).check();
      await page.getByLabel('username').fill(username);
    }
    await page.getByRole('button', { name: 'Authorize app' }).click();
    await page.waitForURL(`${url}/**`);
  }

  async function emulatorTweets(): Promise<EmulatorTweet[]> {
    return (await fetch(`${emulatorUrl}/__admin/tweets`)).json() as Promise<EmulatorTweet[]>;
  }

  async function expectAccessible(page: Page) {
    expect(await seriousA11yViolations(page)).toEqual([]);
  }

  it('signs in through the consent page, posts a 3-item thread with an image, and shows its three links', async () => {
    const { page, context } = await newUserPage();
    await page.goto(url);
    await expectAccessible(page);
    await screenshot(page, 'signin-desktop-light');
    await signIn(page, 'ada');

    const image = await page.screenshot({ clip: { x: 0, y: 0, width: 640, height: 360 } });
    await textbox(page, 'Your post').fill(
      'Launching xgate today: threads, media and schedules from your own server.',
    );
    await page.getByRole('button', { name: 'Add a tweet to the thread' }).click();
    await textbox(page, 'Tweet 2 of 2').fill('It refreshes X tokens before they expire, single-flight.');
    await page.getByRole('button', { name: 'Add a tweet to the thread' }).click();
    await textbox(page, 'Tweet 3 of 3').fill('And it never posts twice. https://example.com/xgate');

    const first = page.locator('.item-editor').first();
    await first
      .locator('input[type=file]')
      .setInputFiles({ name: 'launch.png', mimeType: 'image/png', buffer: image });
    await first.getByLabel(/Alt text/).fill('The xgate sign-in page');
    await first.getByRole('button', { name: 'Upload' }).click();
    await first.getByRole('img', { name: 'The xgate sign-in page' }).waitFor();
    await expect.poll(() => page.locator('.preview .tweet').count()).toBe(3);
    await expectAccessible(page);
    await screenshot(page, 'compose-desktop-light');

    await page.getByRole('button', { name: 'Post now' }).click();
    const links = page.locator('.result .tweet-links a');
    await expect.poll(() => links.count(), { timeout: 20_000 }).toBe(3);
    const hrefs = await links.evaluateAll((anchors) => anchors.map((a) => a.getAttribute('href')));
    const tweetIds = hrefs.map((href) => /#tweet-(\d+)$/.exec(href ?? '')?.[1]);
    expect(tweetIds.every(Boolean)).toBe(true);

    // X (the emulator) has them as a reply chain, the image on the first.
    const tweets = await emulatorTweets();
    const [one, two, three] = tweetIds.map((id) => tweets.find((tweet) => tweet.id === id)!);
    expect(one!.inReplyToTweetId).toBeNull();
    expect(one!.mediaIds).toHaveLength(1);
    expect(two!.inReplyToTweetId).toBe(one!.id);
    expect(three!.inReplyToTweetId).toBe(two!.id);

    // The link opens the sandbox's timeline with the thread.
    await links.first().click();
    await page.getByRole('heading', { name: 'Sandbox X' }).waitFor();
    await page.locator(`[data-tweet-id="${one!.id}"]`).waitFor();
    expect(await page.locator('.timeline .tweet').count()).toBe(3);
    await expectAccessible(page);
    await screenshot(page, 'sandbox-desktop-light');

    await navLink(page, 'History').click();
    await page.locator('.post .badge-published').first().waitFor();
    expect(await page.locator('.post .tweet-url').count()).toBe(3);
    await expectAccessible(page);
    await screenshot(page, 'history-desktop-light');
    await context.close();
  });

  it('schedules a post for tomorrow, finds it in the queue, edits its text, then cancels it', async () => {
    const { page, context } = await newUserPage();
    await signIn(page, 'grace');
    await textbox(page, 'Your post').fill('See you tomorrow');
    await page.getByRole('radio', { name: 'At a time' }).check();
    const tomorrow = new Date(Date.now() + 86_400_000);
    const pad = (n: number) => String(n).padStart(2, '0');
    // The browser runs in Europe/Paris: the picker's value is Paris time.
    const paris = new Date(tomorrow.toLocaleString('en-US', { timeZone: 'Europe/Paris' }));
    const local = `${paris.getFullYear()}-${pad(paris.getMonth() + 1)}-${pad(paris.getDate())}T09:30`;
    await page.getByLabel(/Date and time \(Europe\/Paris\)/).fill(local);
    await page.getByRole('button', { name: 'Schedule' }).click();
    await page.getByText('Scheduled', { exact: true }).waitFor();

    await navLink(page, 'Queue').click();
    const card = page.locator('.post', { hasText: 'See you tomorrow' });
    await card.waitFor();
    await expect.poll(() => card.locator('time').textContent()).toMatch(/09:30/);
    await expectAccessible(page);
    await screenshot(page, 'queue-desktop-light');
    await page.getByRole('button', { name: 'Week' }).click();
    await page.locator('.week-day', { hasText: 'See you tomorrow' }).waitFor();
    await screenshot(page, 'queue-week-desktop-light');
    await page.getByRole('button', { name: 'List' }).click();

    await card.getByRole('link', { name: 'Edit' }).click();
    await page.getByRole('heading', { name: 'Edit the scheduled post' }).waitFor();
    await expect.poll(() => textbox(page, 'Your post').inputValue()).toBe('See you tomorrow');
    await textbox(page, 'Your post').fill('See you tomorrow, edited');
    await page.getByRole('button', { name: 'Save changes' }).click();
    const edited = page.locator('.post', { hasText: 'See you tomorrow, edited' });
    await edited.waitFor();

    // The API agrees: one scheduled post, with the new text, at 09:30 Paris time.
    const posts = await apiGet<{ items: { scheduledAt: number; items: { text: string }[] }[] }>(
      page,
      '/api/v1/posts?status=scheduled',
    );
    expect(posts.items).toHaveLength(1);
    expect(posts.items[0]!.items[0]!.text).toBe('See you tomorrow, edited');
    expect(
      new Date(posts.items[0]!.scheduledAt).toLocaleTimeString('en-GB', { timeZone: 'Europe/Paris' }),
    ).toBe('09:30:00');

    await edited.getByRole('button', { name: 'Cancel post' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel post' }).click();
    await page.getByText('No scheduled posts yet — compose one.').waitFor();
    await context.close();
  });

  it('counts 300 characters as too many (red, submit disabled); "Split into a thread" makes two valid tweets', async () => {
    const { page, context } = await newUserPage();
    await signIn(page, 'linus');
    const words = Array.from({ length: 40 }, (_, i) => `word${i}`).join(' ');
    const text = `${words} ${'x'.repeat(300 - words.length - 1)}`;
    expect(text).toHaveLength(300);
    await textbox(page, 'Your post').fill(text);
    const counter = page.locator('.counter').first();
    await expect.poll(() => counter.textContent()).toContain('300 / 280');
    expect(await counter.getAttribute('class')).toContain('counter-over');
    expect(await page.getByRole('button', { name: 'Post now' }).isDisabled()).toBe(true);
    await screenshot(page, 'compose-too-long-desktop-light');

    // X's weighting: a URL counts 23, an emoji 2.
    await textbox(page, 'Your post').fill('🎉 https://example.com/a/very/long/path/that/is/still/23');
    await expect.poll(() => counter.textContent()).toContain('26 / 280');
    await textbox(page, 'Your post').fill(text);

    await page.getByRole('button', { name: 'Split into a thread' }).click();
    await textbox(page, 'Tweet 2 of 2').waitFor();
    const counters = await page.locator('.counter').allTextContents();
    expect(counters).toHaveLength(2);
    for (const value of counters) expect(Number(/(\d+) \/ 280/.exec(value)?.[1])).toBeLessThanOrEqual(280);
    expect(await page.getByRole('button', { name: 'Post now' }).isDisabled()).toBe(false);
    await context.close();
  });

  it('shows an account X refused as "needs reconnect" (and in Activity); Reconnect makes it active again', async () => {
    const { page, context } = await newUserPage();
    await signIn(page, 'margaret');
    const me = await apiGet<{ accounts: { xUserId: string }[] }>(page, '/api/v1/me');
    const account = me.accounts[0]!;
    // The person revokes xgate's access in X's settings.
    const revoked = await fetch(`${emulatorUrl}/__admin/users/${account.xUserId}/revoke-access`, {
      method: 'POST',
    });
    expect(revoked.status).toBe(200);

    await navLink(page, 'Accounts').click();
    await page.getByRole('button', { name: 'Test connection' }).click();
    await page.locator('.badge-needs_reconnect').waitFor();
    await page.getByText(/X no longer accepts this account's tokens/).waitFor();
    await expectAccessible(page);
    await screenshot(page, 'accounts-needs-reconnect-desktop-light');

    await navLink(page, 'Activity').click();
    await page.locator('.event-account-needs_reconnect').waitFor();
    await expectAccessible(page);
    await screenshot(page, 'activity-desktop-light');

    await navLink(page, 'Accounts').click();
    await page.getByRole('link', { name: 'Reconnect' }).click();
    await page.waitForURL(`${emulatorUrl}/**`);
    await consent(page, 'margaret');
    await navLink(page, 'Accounts').click();
    await page.locator('.badge-active').waitFor();
    expect(await page.locator('.badge-needs_reconnect').count()).toBe(0);
    await context.close();
  });

  it('creates an API key, shows it once, revokes it; the key then gets 401', async () => {
    const { page, context } = await newUserPage();
    await signIn(page, 'barbara');
    await navLink(page, 'Settings').click();
    await page.getByLabel('Name of the new key').fill('deploy bot');
    await page.getByRole('button', { name: 'Create key' }).click();
    const key = await page.getByTestId('new-api-key').textContent();
    expect(key).toMatch(/^xg_/);
    const withKey = () => fetch(`${url}/api/v1/accounts`, { headers: { authorization: `Bearer ${key}` } });
    expect((await withKey()).status).toBe(200);
    await expectAccessible(page);
    await screenshot(page, 'settings-desktop-light');

    await page.getByRole('button', { name: 'I have saved it' }).click();
    expect(await page.getByTestId('new-api-key').count()).toBe(0);
    expect(await page.content()).not.toContain(key!);
    await page.getByRole('button', { name: 'Revoke deploy bot' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click();
    await page.getByText('No API keys yet.').waitFor();
    expect((await withKey()).status).toBe(401);
    await context.close();
  });

  it('every screen at phone width and in dark mode: no horizontal scroll, accessible, screenshots saved', async () => {
    for (const [colorScheme, width] of [
      ['dark', 1280],
      ['light', 390],
      ['dark', 390],
    ] as const) {
      const { page, context } = await newUserPage({ colorScheme, width });
      await signIn(page, 'ada');
      for (const [path, name] of [
        ['/compose', 'compose'],
        ['/queue', 'queue'],
        ['/history', 'history'],
        ['/activity', 'activity'],
        ['/accounts', 'accounts'],
        ['/settings', 'settings'],
        ['/sandbox', 'sandbox'],
      ] as const) {
        await page.goto(`${url}${path}`);
        await page.locator('main h2').first().waitFor();
        await expect.poll(() => page.locator('[aria-busy="true"]').count()).toBe(0);
        const overflow = await page.evaluate<number>(
          'document.documentElement.scrollWidth - window.innerWidth',
        );
        expect(overflow, `${path} at ${width}px scrolls sideways`).toBeLessThanOrEqual(0);
        await expectAccessible(page);
        await screenshot(page, `${name}-${width === 390 ? 'phone' : 'desktop'}-${colorScheme}`);
      }
      await context.close();
    }
  }, 120_000);

  it('shows the cost as you type, moves a link into a reply before sending, and says when X refuses the app', async () => {
    const { page, context } = await newUserPage();
    await signIn(page, 'edsger');
    await textbox(page, 'Your post').fill('Our report is out: https://example.com/report');
    await expect.poll(() => page.getByText(/Estimated X cost:/).textContent()).toContain('$0.200');
    await page.getByText(/contains a URL: X bills it at the post-with-URL price/).waitFor();
    await page.getByRole('checkbox', { name: /Put links in a reply/ }).check();
    await expect.poll(() => page.getByText(/Estimated X cost:/).textContent()).toContain('$0.025');
    await expect.poll(() => page.locator('.preview .tweet').count()).toBe(2);
    await expect
      .poll(() => page.locator('.preview .tweet').nth(1).textContent())
      .toContain('example.com/report');
    await expectAccessible(page);
    await screenshot(page, 'compose-link-in-reply-desktop-light');

    // X's credits run out: the post waits (not failed), the app says why, and resumes when topped up.
    const billing = (body: unknown) =>
      fetch(`${emulatorUrl}/__admin/billing`, {
        method: 'POST',
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
      });
    await billing({ creditsUsd: 0 });
    try {
      await postWhileOutOfCredits(page);
    } finally {
      // Whatever happened, the next tests need an X that accepts the app.
      await billing({ creditsUsd: null });
    }
    await page.getByRole('button', { name: 'I topped up: check now' }).click();
    await expect.poll(() => page.getByText('Publishing is paused: X refuses the app.').count()).toBe(0);
    await expect
      .poll(
        async () => (await apiGet<{ items: { status: string }[] }>(page, '/api/v1/posts')).items[0]?.status,
        {
          timeout: 30_000,
        },
      )
      .toBe('published');
    await context.close();
  }, 180_000);

  /** Posts now while X has no credits: the post waits (not failed) and the app says why. */
  async function postWhileOutOfCredits(page: Page) {
    await page.getByRole('button', { name: 'Post now' }).click();
    await page
      .getByText(/The post is|Scheduled|Published/)
      .first()
      .waitFor({ timeout: 60_000 });
    await expect
      .poll(
        async () => {
          await page.reload();
          return page.getByText('Publishing is paused: X refuses the app.').count();
        },
        { timeout: 60_000, interval: 1000 },
      )
      .toBe(1);
    await expectAccessible(page);
    await screenshot(page, 'paused-banner-desktop-light');
    const waiting = await apiGet<{ items: { status: string }[] }>(page, '/api/v1/posts');
    expect(waiting.items.map((post) => post.status)).toEqual(['scheduled']);
  }

  it('keeps a draft while navigating away, and signs out (here, then everywhere)', async () => {
    const { page, context } = await newUserPage();
    await signIn(page, 'ada');
    await textbox(page, 'Your post').fill('A draft worth keeping');
    await navLink(page, 'History').click();
    await navLink(page, 'Compose').click();
    expect(await textbox(page, 'Your post').inputValue()).toBe('A draft worth keeping');
    await page.reload();
    expect(await textbox(page, 'Your post').inputValue()).toBe('A draft worth keeping');

    const second = await context.browser()!.newContext();
    const other = await second.newPage();
    await other.goto(url);
    await other.getByRole('link', { name: 'Sign in with X' }).click();
    await consent(other, 'ada');
    await other.getByRole('heading', { name: 'Compose', level: 2 }).waitFor();

    await navLink(page, 'Settings').click();
    await page.getByRole('button', { name: 'Sign out everywhere' }).click();
    await page.getByRole('link', { name: 'Sign in with X' }).waitFor();
    const status = await other.evaluate(async () => (await fetch('/api/v1/me')).status);
    expect(status).toBe(401);
    await second.close();
    await context.close();
  });
});
