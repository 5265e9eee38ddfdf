import { monitorEventLoopDelay } from 'node:perf_hooks';
import { runTextJob } from '../src/posts/text-jobs.ts';
import { createTextWorkers, INLINE_MAX_CHARS } from '../src/posts/text-workers.ts';

/** Repeated units that make twitter-text slow (its URL and entity patterns backtrack on them), and plain ones. */
const PATTERNS = [
  'a.',
  '.a',
  'a.。',
  'a-',
  'a.b',
  '1.',
  'x.co',
  '@a',
  '#a',
  'ab.',
  'a..',
  'http://',
  'www.',
  'a b ',
  '日本',
  '😀',
];

const textOf = (pattern: string, chars: number) =>
  pattern.repeat(Math.ceil(chars / pattern.length)).slice(0, chars);

/**
 * How long text work can take, and what it costs everyone else:
 * - `worstInlineMs`: the slowest check small enough to run on the event loop (≤ INLINE_MAX_CHARS), over the
 *   patterns above — the longest any request can hold the event loop with text;
 * - `worstRequestMs`: a pathological split of 50,000 characters (the field cap) alone, which the time limit
 *   ends with 422 `text_too_complex`;
 * - `stormMs`, `eventLoopMaxDelayMs`: 8 such splits at once on 2 workers (they queue), and the event loop's worst
 *   delay meanwhile;
 * - `checksPerSecond`: ordinary 280-character posts measured on this thread.
 */
export async function run(): Promise<Record<string, unknown>> {
  let worstInlineMs = 0;
  let worstInlinePattern = '';
  for (const pattern of PATTERNS) {
    const text = textOf(pattern, INLINE_MAX_CHARS);
    const started = performance.now();
    runTextJob({ kind: 'check', texts: [text], limit: 280 });
    const ms = performance.now() - started;
    if (ms > worstInlineMs) [worstInlineMs, worstInlinePattern] = [ms, JSON.stringify(pattern)];
  }

  const timeoutMs = 2000;
  const pool = createTextWorkers({ size: 2, timeoutMs });
  await pool.run({ kind: 'check', texts: ['x'.repeat(INLINE_MAX_CHARS + 1)], limit: 280 });
  const single = performance.now();
  const alone = await pool.run({ kind: 'split', text: textOf('a.', 50_000), limit: 280 }).then(
    () => 'answered',
    (error: { code?: string }) => error.code ?? 'error',
  );
  const worstRequestMs = performance.now() - single;

  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const outcomes: Record<string, number> = { [alone]: 1 };
  const started = performance.now();
  await Promise.all(
    Array.from({ length: 8 }, async (_, i) => {
      const text = textOf(['a.', 'a.。'][i % 2]!, 50_000);
      const outcome = await pool.run({ kind: 'split', text, limit: 280 }).then(
        () => 'answered',
        (error: { code?: string }) => error.code ?? 'error',
      );
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    }),
  );
  const stormMs = performance.now() - started;
  delay.disable();
  await pool.close();

  const tweet =
    'Shipping xgate today: posts, threads and media to X, scheduled. https://example.com/launch 🎉 '
      .repeat(3)
      .slice(0, 280);
  const n = 20_000;
  const t = performance.now();
  for (let i = 0; i < n; i++) runTextJob({ kind: 'check', texts: [tweet], limit: 280 });
  const checksPerSecond = Math.round(n / ((performance.now() - t) / 1000));

  return {
    inlineMaxChars: INLINE_MAX_CHARS,
    worstInlineMs: Number(worstInlineMs.toFixed(1)),
    worstInlinePattern,
    timeoutMs,
    worstRequestMs: Math.round(worstRequestMs),
    pathologicalOutcomes: outcomes,
    stormMs: Math.round(stormMs),
    eventLoopMaxDelayMs: Number((delay.max / 1e6).toFixed(1)),
    checksPerSecond,
  };
}
