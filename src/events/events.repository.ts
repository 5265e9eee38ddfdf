import { randomUUID } from 'node:crypto';
import { CompiledQuery, type Kysely, sql, type Transaction } from 'kysely';
import { isPostgres } from '../db/index.ts';
import type { Database } from '../db/schema.ts';
import type { EventType, NewEvent, StoredEvent } from './events.types.ts';

type Executor = Kysely<Database> | Transaction<Database>;

/** The subject of an event: the post, account or webhook it is about. */
function subjectOf(event: NewEvent): string {
  const { data } = event;
  if ('postId' in data) return data.postId;
  if ('webhookId' in data) return data.webhookId;
  if ('accountId' in data) return data.accountId;
  return 'app';
}

/**
 * Appends events to the log. Call it with the transaction that makes the change the events record (the outbox
 * rule), so a change and its event are committed together or not at all.
 *
 * The log's order is (tx, seq). On PostgreSQL, sequence numbers are taken at insert but transactions commit in
 * any order, so a reader paging by `seq` alone could pass an event that commits later with a smaller `seq`.
 * Each event therefore carries its transaction's id (`tx`), and readers see only events of transactions older
 * than every transaction still running (`tx < xmin` of their snapshot): that part of the log never changes
 * again, and a later transaction always has a larger `tx`. SQLite has one writer, so `seq` alone is commit order.
 */
export async function appendEvents(db: Executor, events: readonly NewEvent[]): Promise<void> {
  if (events.length === 0) return;
  // Fixed SQL rather than a built query: the dispatcher appends an event for every post it publishes.
  const postgres = isPostgres(db);
  const parameters = events.flatMap((event) => [
    randomUUID(),
    event.userId,
    event.type,
    subjectOf(event),
    JSON.stringify(event.data),
    event.at,
  ]);
  await db.executeQuery(CompiledQuery.raw(insertEventsSql(postgres, events.length), parameters));
}

const insertEventsSqlCache = new Map<string, string>();

/** `insert into events` of `count` rows; `tx` is the inserting transaction's id on PostgreSQL, 0 on SQLite. */
function insertEventsSql(postgres: boolean, count: number): string {
  const key = `${postgres} ${count}`;
  let text = insertEventsSqlCache.get(key);
  if (!text) {
    const rows = Array.from({ length: count }, (_, row) => {
      const p = (column: number) => (postgres ? `$${row * 6 + column + 1}` : '?');
      const tx = postgres ? 'pg_current_xact_id()::text::bigint' : '0';
      return `(${p(0)}, ${tx}, ${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)})`;
    });
    text = `insert into "events" ("id", "tx", "user_id", "type", "subject_id", "data", "at") values ${rows.join(', ')}`;
    if (count <= 16) insertEventsSqlCache.set(key, text);
  }
  return text;
}

/**
 * PostgreSQL, for a fenced statement that records events for many rows at once (the dispatcher's batches): the
 * events as `unnest` arguments from `$first` (their values: {@link pgEventArrays}) and the columns they give, and
 * a data-modifying CTE `name` that appends the events of the rows of `from` (a relation with those columns) that
 * match `where` (rows without an event are skipped).
 */
export const pgEventBatch = {
  unnestArguments: (first: number): string =>
    ['text', 'text', 'text', 'text', 'text', 'bigint']
      .map((type, i) => `$${first + i}::${type}[]`)
      .join(', '),
  columns: '"event_id", "event_user_id", "event_type", "event_subject_id", "event_data", "event_at"',
  cte: (name: string, from: string, where: string): string => `"${name}" as (insert into "events"
  ("id", "tx", "user_id", "type", "subject_id", "data", "at")
  select "event_id", pg_current_xact_id()::text::bigint, "event_user_id", "event_type", "event_subject_id",
    "event_data", "event_at" from ${from} where (${where}) and "event_id" is not null)`,
};

/** The parameters of {@link pgEventBatch}'s `unnest` arguments: one array per column, an entry per row (null: none). */
export function pgEventArrays(events: ReadonlyArray<NewEvent | undefined>): unknown[][] {
  const rows = events.map((event) =>
    event
      ? [randomUUID(), event.userId, event.type, subjectOf(event), JSON.stringify(event.data), event.at]
      : [null, null, null, null, null, null],
  );
  return [0, 1, 2, 3, 4, 5].map((column) => rows.map((row) => row[column]));
}

/** Where a reader stands in the log. */
export interface LogPosition {
  tx: number;
  seq: number;
}

interface ReadOptions {
  after: LogPosition | null;
  types?: readonly EventType[];
  limit: number;
}

/** The user's events after `after` (from the start when null), oldest first, at most `limit`. */
export function listEvents(
  db: Kysely<Database>,
  userId: string,
  options: ReadOptions,
): Promise<Array<StoredEvent & LogPosition>> {
  return readLog(db, userId, options);
}

/** Every user's events after `after`, in log order: for a consumer of the whole log (the metrics collector). */
export function listLogEvents(
  db: Kysely<Database>,
  options: ReadOptions,
): Promise<Array<StoredEvent & LogPosition & { userId: string }>> {
  return readLog(db, null, options) as Promise<Array<StoredEvent & LogPosition & { userId: string }>>;
}

async function readLog(
  db: Kysely<Database>,
  userId: string | null,
  options: ReadOptions,
): Promise<Array<StoredEvent & LogPosition & { userId: string }>> {
  let query = db
    .selectFrom('events')
    .select(['seq', 'tx', 'id', 'type', 'at', 'data', 'user_id'])
    .orderBy('tx')
    .orderBy('seq')
    .limit(options.limit);
  if (userId !== null) query = query.where('user_id', '=', userId);
  const { after } = options;
  if (after) {
    query = query.where((eb) =>
      eb.or([eb('tx', '>', after.tx), eb.and([eb('tx', '=', after.tx), eb('seq', '>', after.seq)])]),
    );
  }
  if (options.types && options.types.length > 0) query = query.where('type', 'in', [...options.types]);
  if (isPostgres(db)) {
    query = query.where('tx', '<', sql<number>`pg_snapshot_xmin(pg_current_snapshot())::text::bigint`);
  }
  const rows = await query.execute();
  return rows.map((row) => ({
    id: row.id,
    userId: row.user_id,
    type: row.type as EventType,
    at: Number(row.at),
    data: JSON.parse(row.data),
    tx: Number(row.tx),
    seq: Number(row.seq),
    cursor: encodeCursor({ tx: Number(row.tx), seq: Number(row.seq) }),
  }));
}

/** Deletes events older than `before`; returns how many. */
export async function purgeEvents(db: Kysely<Database>, before: number, limit: number): Promise<number> {
  const result = await db
    .deleteFrom('events')
    .where('seq', 'in', (eb) =>
      eb.selectFrom('events').select('seq').where('at', '<', before).orderBy('seq').limit(limit),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

export function encodeCursor(position: LogPosition): string {
  return `${position.tx}.${position.seq}`;
}

/** The position in a cursor this API gave out, or null when it is not one. */
export function decodeCursor(cursor: string): LogPosition | null {
  const match = /^(\d{1,19})\.(\d{1,19})$/.exec(cursor);
  if (!match) return null;
  const position = { tx: Number(match[1]), seq: Number(match[2]) };
  return Number.isSafeInteger(position.tx) && Number.isSafeInteger(position.seq) ? position : null;
}
