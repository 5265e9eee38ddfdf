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
  const cuts = findCuts(text, urls);
  const items: SplitItem[] = [];
  let start = skipWhitespace(text, 0);
  const end = text.trimEnd().length;
  let cutIndex = 0;

  while (start < end) {
    const rest = text.slice(start, end);
    const restLength = weightedLength(rest);
    if (restLength <= max) {
      items.push({ text: rest, weightedLength: restLength });
      break;
    }
    while (cutIndex < cuts.length && cuts[cutIndex]!.end <= start) cutIndex++;
    const candidates = cuts.slice(cutIndex).filter((cut) => cut.end < end);
    const fit = lastFitting(candidates, (cut) => weightedLength(text.slice(start, cut.end)) <= max);
    if (fit < 0) {
      const wordEnd = candidates[0]?.end ?? end;
      const cutAt = hardCut(text, start, wordEnd, urls, max);
      items.push(item(text.slice(start, cutAt)));
      start = cutAt;
      continue;
    }
    let chosen = candidates[fit]!;
    const sentence = candidates.slice(0, fit + 1).findLast((cut) => cut.sentence);
    if (sentence && weightedLength(text.slice(start, sentence.end)) * 2 >= max) chosen = sentence;
    items.push(item(text.slice(start, chosen.end)));
    start = chosen.next;
  }
  return items;
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

function insideUrl(position: number, urls: Array<[number, number]>): boolean {
  return urls.some(([from, to]) => position > from && position < to);
}

/** Every place a tweet may end, in order: whitespace runs, and zero-width breaks in scripts without spaces. */
function findCuts(text: string, urls: Array<[number, number]>): Cut[] {
  const sentenceStarts = new Set<number>();
  for (const s of new Intl.Segmenter(undefined, { granularity: 'sentence' }).segment(text)) {
    sentenceStarts.add(s.index);
  }
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
  for (const w of new Intl.Segmenter(undefined, { granularity: 'word' }).segment(text)) {
    if (!cuts.has(w.index) && noSpaceBreak(w.index)) {
      cuts.set(w.index, { end: w.index, next: w.index, sentence: false });
    }
  }
  return [...cuts.values()].sort((a, b) => a.end - b.end);
}

/**
 * The last index of `list` whose element satisfies `fits`, or -1. Weighted length only grows as a
 * tweet is extended to a later cut, so the fitting elements form a prefix and a binary search is exact.
 */
function lastFitting<T>(list: T[], fits: (value: T) => boolean): number {
  let low = 0;
  let high = list.length - 1;
  let found = -1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if (fits(list[middle]!)) {
      found = middle;
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  return found;
}

/** Where to cut a word too long for one tweet: the last grapheme boundary (outside URLs) that fits. */
function hardCut(
  text: string,
  start: number,
  wordEnd: number,
  urls: Array<[number, number]>,
  max: number,
): number {
  const boundaries: number[] = [];
  for (const g of new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(
    text.slice(start, wordEnd),
  )) {
    const position = start + g.index + g.segment.length;
    if (!insideUrl(position, urls)) boundaries.push(position);
  }
  const fit = lastFitting(boundaries, (position) => weightedLength(text.slice(start, position)) <= max);
  // A single grapheme always fits any real limit; guard anyway so the loop always advances.
  return boundaries[Math.max(fit, 0)]!;
}
