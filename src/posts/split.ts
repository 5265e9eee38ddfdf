import twitter from 'twitter-text';
import { weightedLength } from './text.ts';

/** One tweet of a split thread. */
export interface SplitItem {
  text: string;
  weightedLength: number;
}

export interface SplitOptions {
  /** The account's limit (280, or 25,000 for long posts). */
  maxWeightedLength: number;
}

/** A place where a tweet may end: the tweet ends at `end`, the next begins at `next` (whitespace between). */
interface Cut {
  end: number;
  next: number;
  sentence: boolean;
}

/** Runs of characters of {@link NO_SPACE_SCRIPT}. */
const NO_SPACE_RUNS =
  /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}\u3000-\u303f\uff00-\uffef]+/gu;

/** Scripts written without spaces between words: zero-width cuts are only allowed next to them. */
const NO_SPACE_SCRIPT =
  /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}\u3000-\u303f\uff00-\uffef]/u;

/**
 * Cuts `text` into tweets of at most `maxWeightedLength` as X counts it.
 *
 * Each tweet ends at the last sentence end that fits (a paragraph break counts as one); when that
 * would leave the tweet less than half full, at the last word boundary that fits instead. URLs and
 * grapheme clusters (emoji with modifiers, flags, ZWJ sequences) are never cut; a single word longer
 * than a tweet is the one thing cut inside, at grapheme boundaries. Whitespace at each cut is
 * dropped, so joining the items with the dropped whitespace gives back the trimmed text.
 * Text with characters X refuses (see `checkText`) cannot be made valid by splitting; check first.
 */
export function splitThread(text: string, options: SplitOptions): SplitItem[] {
  const max = options.maxWeightedLength;
  const urls = urlRanges(text);
  const end = text.trimEnd().length;
  // Every place a tweet may end, the end of the text last.
  const candidates = [
    ...findCuts(text, urls).filter((cut) => cut.end < end),
    { end, next: end, sentence: true },
  ];
  const items: SplitItem[] = [];
  let start = skipWhitespace(text, 0);
  let first = 0;

  while (start < end) {
    while (candidates[first]!.end <= start) first++;
    const from = start;
    const fit = lastFitting(first, candidates.length, (i) => fitsIn(text, from, candidates[i]!.end, max));
    if (fit < first) {
      const cutAt = hardCut(text, start, candidates[first]!.end, urls, max);
      items.push(item(text.slice(start, cutAt)));
      start = cutAt;
      continue;
    }
    let chosen = candidates[fit]!;
    if (fit < candidates.length - 1) {
      for (let i = fit; i >= first; i--) {
        const cut = candidates[i]!;
        if (!cut.sentence) continue;
        if (weightedLength(text.slice(start, cut.end)) * 2 >= max) chosen = cut;
        break;
      }
    }
    items.push(item(text.slice(start, chosen.end)));
    start = chosen.next;
  }
  return items;
}

/**
 * Whether text[from, to) weighs at most `max`. A long piece is first judged by a prefix: outside URLs no
 * 32 UTF-16 units weigh less than 1 (a ZWJ family emoji is 11 units for 2), so a prefix that already
 * weighs too much settles it without measuring a whole 100,000-character remainder.
 */
function fitsIn(text: string, from: number, to: number, max: number): boolean {
  const prefixEnd = from + 32 * max;
  if (to > prefixEnd && weightedLength(text.slice(from, prefixEnd)) > max) return false;
  return weightedLength(text.slice(from, to)) <= max;
}

function item(text: string): SplitItem {
  return { text, weightedLength: weightedLength(text) };
}

function skipWhitespace(text: string, from: number): number {
  let i = from;
  while (i < text.length && /\s/u.test(text[i]!)) i++;
  return i;
}

function urlRanges(text: string): Array<[number, number]> {
  return twitter.extractUrlsWithIndices(text).map((u) => [u.indices[0], u.indices[1]]);
}

/** Whether `position` falls strictly inside one of `urls` (sorted, not overlapping). */
function insideUrl(position: number, urls: Array<[number, number]>): boolean {
  let low = 0;
  let high = urls.length - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const [from, to] = urls[middle]!;
    if (position <= from) high = middle - 1;
    else if (position >= to) low = middle + 1;
    else return true;
  }
  return false;
}

const SEGMENT_CHUNK = 1024;
const SEGMENT_CONTEXT = 128;

/**
 * The ends of the `granularity` segments of `text` between `from` (itself a boundary) and `to`, found in
 * windows of about 1 KB with some context after each: V8's Intl.Segmenter slows down quadratically over
 * one long string, and a 100,000-character text must still split in milliseconds.
 */
function boundaries(
  text: string,
  from: number,
  to: number,
  granularity: 'sentence' | 'word' | 'grapheme',
): number[] {
  const segmenter = new Intl.Segmenter(undefined, { granularity });
  const result: number[] = [];
  let position = from;
  while (position < to) {
    const sliceEnd = Math.min(to, position + SEGMENT_CHUNK + SEGMENT_CONTEXT);
    const complete = sliceEnd === to;
    let last = position;
    for (const segment of segmenter.segment(text.slice(position, sliceEnd))) {
      const end = position + segment.index + segment.segment.length;
      // A segment ending in the context part may be cut short: the next window starts there instead.
      if (!complete && end > position + SEGMENT_CHUNK) break;
      result.push(end);
      last = end;
    }
    position = last > position ? last : sliceEnd;
  }
  return result;
}

/** Every place a tweet may end, in order: whitespace runs, and zero-width breaks in scripts without spaces. */
function findCuts(text: string, urls: Array<[number, number]>): Cut[] {
  const sentenceStarts = new Set(boundaries(text, 0, text.length, 'sentence'));
  const cuts = new Map<number, Cut>();
  for (const match of text.matchAll(/\s+/gu)) {
    const from = match.index;
    const to = from + match[0].length;
    if (from === 0 || to === text.length) continue;
    cuts.set(from, { end: from, next: to, sentence: sentenceStarts.has(to) || match[0].includes('\n') });
  }
  const noSpaceBreak = (position: number): boolean =>
    position > 0 &&
    position < text.length &&
    !/\s/u.test(text[position - 1]!) &&
    !/\s/u.test(text[position]!) &&
    !insideUrl(position, urls) &&
    (NO_SPACE_SCRIPT.test(text[position - 1]!) || NO_SPACE_SCRIPT.test(text[position]!));
  for (const position of sentenceStarts) {
    if (noSpaceBreak(position)) cuts.set(position, { end: position, next: position, sentence: true });
  }
  // Word boundaries matter only in and around runs of scripts without spaces: segment just those.
  for (const run of text.matchAll(NO_SPACE_RUNS)) {
    for (const position of [run.index, ...boundaries(text, run.index, run.index + run[0].length, 'word')]) {
      if (!cuts.has(position) && noSpaceBreak(position)) {
        cuts.set(position, { end: position, next: position, sentence: false });
      }
    }
  }
  return [...cuts.values()].sort((a, b) => a.end - b.end);
}

/**
 * The last index in [from, to) that `fits`, or `from - 1` if none. Weighted length only grows as a tweet
 * is extended to a later cut, so the fitting indices form a prefix: gallop forward, then bisect. Each probe
 * is at most about twice as long as the answer, so a long text costs O(n log n), not O(n²).
 */
function lastFitting(from: number, to: number, fits: (index: number) => boolean): number {
  if (from >= to || !fits(from)) return from - 1;
  let good = from;
  let step = 1;
  while (good + step < to && fits(good + step)) {
    good += step;
    step *= 2;
  }
  let bad = Math.min(good + step, to);
  while (bad - good > 1) {
    const middle = (good + bad) >> 1;
    if (fits(middle)) good = middle;
    else bad = middle;
  }
  return good;
}

/** Where to cut a word too long for one tweet: the last grapheme boundary (outside URLs) that fits. */
function hardCut(
  text: string,
  start: number,
  wordEnd: number,
  urls: Array<[number, number]>,
  max: number,
): number {
  const ends: number[] = [];
  // Segment only as much of the word as can matter: grow a window until it no longer fits.
  let windowEnd = Math.min(wordEnd, start + 2 * max);
  while (windowEnd < wordEnd && fitsIn(text, start, windowEnd, max)) {
    windowEnd = Math.min(wordEnd, start + 2 * (windowEnd - start));
  }
  for (const position of boundaries(text, start, windowEnd, 'grapheme')) {
    if (!insideUrl(position, urls)) ends.push(position);
  }
  const fit = lastFitting(0, ends.length, (i) => fitsIn(text, start, ends[i]!, max));
  // A single grapheme always fits any real limit; guard anyway so the loop always advances.
  return ends[Math.max(fit, 0)] ?? windowEnd;
}
