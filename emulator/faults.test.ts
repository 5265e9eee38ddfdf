import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from './index.ts';
import { expectConformsToSpec } from './testing/conformance.ts';
import { type ConnectedUser, connectUser } from './testing/connect-user.ts';

let emulator: Emulator;
let url: string;
let alice: ConnectedUser;
let posted = 0;

beforeAll(async () => {
  emulator = await createEmulator({ tier: 'unlimited' });
  url = await emulator.listen();
  alice = await connectUser(emulator, { username: 'alice' });
});

afterAll(async () => {
  await emulator.close();
});

afterEach(async () => {
  const cleared = await fetch(`${url}/__admin/faults`, { method: 'DELETE' });
  expect(cleared.status).toBe(204);
});

async function setFaults(rules: unknown[]) {
  const answer = await fetch(`${url}/__admin/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ rules }),
  });
  expect(answer.status).toBe(200);
}

async function getMe(signal?: AbortSignal) {
  const answer = await fetch(`${url}/2/users/me`, {
    headers: { authorization: `Bearer ${alice.accessToken}` },
    ...(signal === undefined ? {} : { signal }),
  });
  const body = await answer.json();
  expectConformsToSpec('GET', '/2/users/me', answer.status, body);
  return { status: answer.status, body, headers: answer.headers };
}

function postTweet(text: string, signal?: AbortSignal) {
  return fetch(`${url}/2/tweets`, {
    method: 'POST',
    headers: { authorization: `Bearer ${alice.accessToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ text }),
    ...(signal === undefined ? {} : { signal }),
  });
}

/** Posts a tweet that the emulator answers, spec-checking the answer. */
async function postAnswered(text: string): Promise<{ status: number; body: { data: { id: string } } }> {
  const answer = await postTweet(text);
  const body = (await answer.json()) as { data: { id: string } };
  expectConformsToSpec('POST', '/2/tweets', answer.status, body);
  return { status: answer.status, body };
}

function lastLogged(path: string) {
  return emulator.control
    .requests()
    .filter((r) => r.path === path)
    .at(-1);
}

describe('error faults', () => {
  it('answer the status with a generic X problem, count times, then the route works again', async () => {
    await setFaults([{ method: 'GET', path: '/2/users/me', kind: 'error', status: 503, count: 2 }]);
    for (let i = 0; i < 2; i++) {
      const answer = await getMe();
      expect(answer.status).toBe(503);
      expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(answer.body).toEqual({
        title: 'Service Unavailable',
        detail: 'Service Unavailable',
        type: 'about:blank',
        status: 503,
      });
    }
    expect((await getMe()).status).toBe(200);
    expect(lastLogged('/2/users/me')?.status).toBe(200);
  });

  it('match a route template and any method with *', async () => {
    await setFaults([{ method: '*', path: '/2/tweets/:id', kind: 'error', status: 500 }]);
    const created = (await postAnswered(`template ${++posted}`)).body;
    const lookup = await fetch(`${url}/2/tweets/${created.data.id}`, {
      headers: { authorization: `Bearer ${alice.accessToken}` },
    });
    expect(lookup.status).toBe(500);
    expectConformsToSpec('GET', '/2/tweets/:id', 500, await lookup.json());
    const removal = await fetch(`${url}/2/tweets/${created.data.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${alice.accessToken}` },
    });
    expect(removal.status).toBe(500);
    expect(emulator.control.tweets().find((t) => t.id === created.data.id)?.deletedAt).toBeNull();
  });

  it('match an exact path, and only that method', async () => {
    await setFaults([{ method: 'POST', path: '/2/users/me', kind: 'error', status: 500 }]);
    expect((await getMe()).status).toBe(200);
  });

  it('with probability 0 never fire', async () => {
    await setFaults([{ method: 'GET', path: '/2/users/me', kind: 'error', status: 500, probability: 0 }]);
    for (let i = 0; i < 5; i++) expect((await getMe()).status).toBe(200);
  });
});

describe('latency faults', () => {
  it('hold the answer back, then answer normally', async () => {
    await setFaults([{ method: 'GET', path: '/2/users/me', kind: 'latency', latencyMs: 5_000, count: 1 }]);
    // The held request cannot answer within 200 ms; the client gives up first.
    await expect(getMe(AbortSignal.timeout(200))).rejects.toThrow();
    await setFaults([{ method: 'GET', path: '/2/users/me', kind: 'latency', latencyMs: 50 }]);
    expect((await getMe()).status).toBe(200);
  });
});

describe('timeout faults', () => {
  it('never answer and do nothing', async () => {
    await setFaults([{ method: 'POST', path: '/2/tweets', kind: 'timeout', count: 1 }]);
    const text = `timed out ${++posted}`;
    await expect(postTweet(text, AbortSignal.timeout(300))).rejects.toThrow();
    expect(emulator.control.tweets().some((t) => t.text === text)).toBe(false);
    expect(lastLogged('/2/tweets')?.status).toBeNull();
    // The rule was used up: the next request is served.
    expect((await postAnswered(`after timeout ${++posted}`)).status).toBe(201);
  });
});

describe('drop_after_commit faults', () => {
  it('do the work, then cut the connection without an answer', async () => {
    await setFaults([{ method: 'POST', path: '/2/tweets', kind: 'drop_after_commit', count: 1 }]);
    const text = `dropped ${++posted}`;
    await expect(postTweet(text)).rejects.toThrow();
    const ledger = emulator.control.tweets().filter((t) => t.text === text);
    expect(ledger).toHaveLength(1);
    expect(ledger[0]?.authorId).toBe(alice.userId);
    expect(lastLogged('/2/tweets')?.status).toBeNull();
    expect((await postAnswered(`after drop ${++posted}`)).status).toBe(201);
  });
});
