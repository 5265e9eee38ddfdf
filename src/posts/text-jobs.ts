import { type SplitItem, splitThread } from './split.ts';
import { checkText, hasInvalidCharacters, type TextCheck } from './text.ts';

/** A unit of text work, run off the event loop by the text pool. */
export type TextJob =
  | { kind: 'check'; texts: string[]; limit: number }
  | { kind: 'split'; text: string; limit: number };

/** What each kind of job answers. */
export interface TextJobResults {
  check: TextCheck[];
  /** `invalidCharacters`: the text has characters X refuses, so no split can make it valid (`items` empty). */
  split: { invalidCharacters: boolean; items: SplitItem[] };
}

/** Runs one job: in a text worker, or inline when it is small (see `text-workers.ts`). */
export function runTextJob(job: TextJob): TextJobResults[TextJob['kind']] {
  if (job.kind === 'check') return job.texts.map((text) => checkText(text, job.limit));
  if (hasInvalidCharacters(job.text)) {
    return { invalidCharacters: true, items: [] };
  }
  return { invalidCharacters: false, items: splitThread(job.text, { maxWeightedLength: job.limit }) };
}
