import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse } from 'csv-parse/sync';
import { type ApiClient, ApiError } from './api.ts';
import { CliError, EXIT } from './errors.ts';
import type { Output } from './output.ts';
import type { Account, Post } from './posting.ts';
import { contentKey, findAccount, uploadMedia } from './posting.ts';
import { parseWhen } from './time.ts';

interface Row {
  line: number;
  account: Account;
  scheduledAt: number | 'next_slot';
  text: string;
  media: Array<{ path: string; alt?: string }>;
}

interface Problem {
  line: number;
  reason: string;
}

/**
 * `xgate import FILE.csv`: every row is checked here first (account, time, text, files) and then by the server
 * (limits, budget, slots); every bad row is reported with its line. All or nothing unless `skipInvalid`. The
 * uploads and the import carry keys made from the file's content, so running the same file again (within the
 * server's 24 hours of Idempotency-Keys) creates nothing twice.
 */
export async function importCsv(
  api: ApiClient,
  out: Output,
  file: string,
  options: { skipInvalid: boolean },
): Promise<void> {
  if (!existsSync(file)) throw new CliError(`no such file: ${file}`, EXIT.usage, 'usage');
  const source = readFileSync(file);
  let records: Array<{ record: Record<string, string>; info: { lines: number } }>;
  try {
    records = parse(source, {
      columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()),
      skip_empty_lines: true,
      trim: true,
      info: true,
      bom: true,
    });
  } catch (error) {
    throw new CliError(
      `${file} is not a CSV file: ${(error as Error).message}`,
      EXIT.failed,
      'import_invalid',
    );
  }
  const accounts = await api.request<Account[]>('GET', '/api/v1/accounts');
  const baseDir = dirname(resolve(file));
  const rows: Row[] = [];
  const problems: Problem[] = [];
  for (const { record, info } of records) {
    const line = info.lines;
    const account = record.account ? findAccount(accounts, record.account) : undefined;
    const paths = (record.media ?? '')
      .split('|')
      .map((p) => p.trim())
      .filter((p) => p !== '');
    const alts = (record.alt ?? '').split('|').map((a) => a.trim());
    const reasons: string[] = [];
    if (!record.account) reasons.push('no account');
    else if (!account) reasons.push(`no account ${record.account} here`);
    else if (account.status !== 'active')
      reasons.push(
        `account @${account.username} is ${account.status.replace('_', ' ')} (run \`xgate connect\`)`,
      );
    let scheduledAt: number | 'next_slot' = 'next_slot';
    if (record.time) {
      try {
        scheduledAt = parseWhen(record.time).getTime();
      } catch {
        reasons.push(`cannot read the time "${record.time}"`);
      }
    }
    if (!record.text && paths.length === 0) reasons.push('no text and no media');
    const media = paths.map((path, i) => ({
      path: isAbsolute(path) ? path : resolve(baseDir, path),
      ...(alts[i] && { alt: alts[i] }),
    }));
    for (const m of media) if (!existsSync(m.path)) reasons.push(`no such file: ${m.path}`);
    if (reasons.length > 0 || !account) problems.push({ line, reason: reasons.join('; ') });
    else rows.push({ line, account, scheduledAt, text: record.text ?? '', media });
  }
  if (records.length === 0)
    throw new CliError(
      `${file} has no rows (a header line, then one post per line)`,
      EXIT.failed,
      'import_invalid',
    );
  if (problems.length > 0 && !options.skipInvalid) throw invalid(file, problems, records.length);

  const files = rows.flatMap((row) => row.media);
  const bar = out.progress('Uploading media', files.length);
  const posts = [];
  for (const row of rows) {
    const mediaIds: string[] = [];
    for (const m of row.media) {
      const bytes = readFileSync(m.path);
      mediaIds.push(await uploadMedia(api, m, contentKey('import-media', api.url, bytes, m.alt ?? '')));
      bar.tick();
    }
    posts.push({
      accountId: row.account.id,
      items: [{ text: row.text, mediaIds }],
      scheduledAt: row.scheduledAt,
    });
  }
  if (files.length > 0) bar.done();
  const body = { posts, skipInvalid: options.skipInvalid };
  let result: { items: Post[]; skipped: Array<{ row: number; message: string }> };
  try {
    result = await api.request('POST', '/api/v1/posts/import', {
      body,
      // From the file, not the body: "in 3h" reads differently on every run, the file does not.
      idempotencyKey: contentKey('import', api.url, source, String(options.skipInvalid)),
    });
  } catch (error) {
    // The key is the file's: the server has seen this file imported (its relative times read differently now).
    if (error instanceof ApiError && error.code === 'idempotency_key_reused') {
      out.data({ imported: [], skipped: [], alreadyImported: true });
      out.line(`${file} was already imported (within the last 24 hours): nothing was created again.`);
      return;
    }
    if (error instanceof ApiError && error.code === 'import_invalid') {
      const serverRows =
        (error.details as { rows?: Array<{ row: number; message: string }> } | undefined)?.rows ?? [];
      throw invalid(
        file,
        [...problems, ...serverRows.map((r) => ({ line: rows[r.row]?.line ?? 0, reason: r.message }))],
        records.length,
      );
    }
    throw error;
  }
  const skipped = [
    ...problems,
    ...result.skipped.map((r) => ({ line: rows[r.row]?.line ?? 0, reason: r.message })),
  ].sort((a, b) => a.line - b.line);
  out.data({ imported: result.items, skipped });
  out.line(`Imported ${result.items.length} post(s) from ${file}.`);
  for (const problem of skipped) out.line(out.yellow(`skipped line ${problem.line}: ${problem.reason}`));
}

function invalid(file: string, problems: Problem[], total: number): CliError {
  const sorted = [...problems].sort((a, b) => a.line - b.line);
  return new CliError(
    `${sorted.length} of ${total} rows of ${file} cannot be posted, so nothing was imported (--skip-invalid imports the others):\n${sorted
      .map((p) => `  line ${p.line}: ${p.reason}`)
      .join('\n')}`,
    EXIT.failed,
    'import_invalid',
  );
}
