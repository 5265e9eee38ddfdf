import { createHash } from 'node:crypto';
import pg from 'pg';

/**
 * Statements one connection keeps prepared. Each costs PostgreSQL ~125 kB of the backend's memory (measured with
 * `pg_backend_memory_contexts` for a two-table select run seven times, its generic plan cached), so the cap bounds a
 * connection's share at ~8 MB; the create and publish paths use a few dozen texts.
 */
const PREPARED_PER_CONNECTION = 64;
/** Statements with more parameters run unprepared: long `in (…)` lists of a batch seldom repeat exactly. */
const MOST_PARAMETERS = 32;
/** Statement texts whose uses are counted before one is prepared; the count starts over beyond it. */
const COUNTED_TEXTS = 5_000;

/** How often each statement text has been run in this process, to prepare only those run again. */
const uses = new Map<string, number>();
/** Each text's prepared-statement name (a digest: the same on every connection). */
const names = new Map<string, string>();

/**
 * A pg client that runs the statements with parameters that this process runs more than once as named prepared
 * statements, so PostgreSQL parses and plans each once per connection instead of at every execution (on the create
 * and publish paths that was a large part of PostgreSQL's CPU). At most PREPARED_PER_CONNECTION per connection, of
 * at most MOST_PARAMETERS parameters; others run unprepared. Kysely sends every query as (text, values), so nothing
 * else changes for its callers.
 *
 * A prepared statement outlives a change of its tables' columns by another process (a rolling upgrade migrating):
 * PostgreSQL then refuses it ("cached plan must not change result type"). The connection then forgets all its
 * statements and, outside a transaction, runs the query again; inside one, the error ends the transaction as any
 * error would, and the next one prepares afresh.
 */
export class PreparingClient extends pg.Client {
  #prepared = new Set<string>();
  /** Part of every name: a new one after the statements were forgotten, so no name is ever parsed twice. */
  #generation = 0;

  // biome-ignore lint/suspicious/noExplicitAny: pg's query() is overloaded far beyond what an override can restate
  override query(config: any, values?: any, callback?: any): any {
    if (typeof config !== 'string' || !Array.isArray(values) || values.length === 0 || callback) {
      return super.query(config, values, callback);
    }
    const name = this.#nameFor(config, values.length);
    if (name === null) return super.query(config, values);
    const idle = this.getTransactionStatus() === 'I';
    return (super.query({ name, text: config, values }) as Promise<pg.QueryResult>).catch(
      (error: unknown) => {
        if (!isStalePreparedStatement(error)) throw error;
        this.#forget();
        if (!idle) throw error;
        return super.query(config, values);
      },
    );
  }

  /** The name to run `text` under on this connection, or null to run it unprepared. */
  #nameFor(text: string, parameters: number): string | null {
    if (parameters > MOST_PARAMETERS) return null;
    if (!this.#prepared.has(text)) {
      const count = (uses.get(text) ?? 0) + 1;
      if (uses.size >= COUNTED_TEXTS) uses.clear();
      uses.set(text, count);
      if (count < 2 || this.#prepared.size >= PREPARED_PER_CONNECTION) return null;
      this.#prepared.add(text);
    }
    let digest = names.get(text);
    if (digest === undefined) {
      digest = createHash('sha1').update(text).digest('hex').slice(0, 24);
      if (names.size >= COUNTED_TEXTS) names.clear();
      names.set(text, digest);
    }
    return `xgate_${this.#generation}_${digest}`;
  }

  /** Drops this connection's prepared statements (on the server too, when it can). */
  #forget(): void {
    this.#prepared.clear();
    this.#generation += 1;
    super.query('deallocate all').catch(() => {
      // In a failed transaction it cannot run; the names of the next generation do not collide with them.
    });
  }
}

/** PostgreSQL's answers to a prepared statement that no longer fits its tables, or is gone. */
function isStalePreparedStatement(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return (
    code === '26000' ||
    (code === '0A000' && typeof message === 'string' && message.includes('cached plan must not change'))
  );
}
