import { describe, expect, it } from 'vitest';
import { appendRequest, createRequestLog, listRequests } from './request-log.ts';

describe('request log', () => {
  it('keeps the newest entries, oldest first, within its capacity', () => {
    const log = createRequestLog(3);
    for (let i = 1; i <= 5; i++) appendRequest(log, { method: 'GET', path: `/${i}`, status: 200, at: i });
    expect(listRequests(log).map((e) => e.path)).toEqual(['/3', '/4', '/5']);
    expect(log.entries).toHaveLength(3);
  });

  it('returns the appended entry so its status can be filled in when the answer goes out', () => {
    const log = createRequestLog(2);
    const entry = appendRequest(log, { method: 'POST', path: '/2/tweets', status: null, at: 1 });
    entry.status = 201;
    expect(listRequests(log)).toEqual([{ method: 'POST', path: '/2/tweets', status: 201, at: 1 }]);
  });
});
