import { describe, expect, it } from 'vitest';
import { mediaKind, processingAt, processingDurationMs } from './rules.ts';

describe('mediaKind', () => {
  it('fits types to categories', () => {
    expect(mediaKind('image/png', 'tweet_image')).toBe('image');
    expect(mediaKind('image/gif', 'tweet_image')).toBe('image');
    expect(mediaKind('image/gif', 'tweet_gif')).toBe('gif');
    expect(mediaKind('video/mp4', 'amplify_video')).toBe('video');
    expect(mediaKind('text/vtt', 'subtitles')).toBe('subtitles');
    expect(mediaKind('image/png', 'tweet_gif')).toBeNull();
    expect(mediaKind('video/mp4', 'tweet_image')).toBeNull();
    expect(mediaKind('model/gltf-binary', 'tweet_image')).toBeNull();
  });
});

describe('processingAt', () => {
  it('is pending for a second, in progress with growing percent, then succeeded or failed', () => {
    const duration = processingDurationMs('gif', 1000);
    expect(processingAt(0, duration, true)).toEqual({
      state: 'pending',
      progressPercent: 0,
      checkAfterSecs: 1,
    });
    const early = processingAt(1000, duration, true);
    const later = processingAt(1000 + duration / 2, duration, true);
    expect(early.state).toBe('in_progress');
    expect(later.progressPercent).toBeGreaterThan(early.progressPercent);
    expect(later.checkAfterSecs).toBeGreaterThanOrEqual(1);
    expect(processingAt(1000 + duration, duration, true)).toEqual({
      state: 'succeeded',
      progressPercent: 100,
    });
    expect(processingAt(1000 + duration, duration, false)).toEqual({ state: 'failed', progressPercent: 100 });
  });

  it('takes longer for bigger files, within a cap', () => {
    expect(processingDurationMs('video', 100 * 1024 * 1024)).toBeGreaterThan(
      processingDurationMs('video', 1024),
    );
    expect(processingDurationMs('video', 512 * 1024 * 1024)).toBeLessThanOrEqual(60_000);
    expect(processingDurationMs('image', 1024)).toBe(0);
  });
});
