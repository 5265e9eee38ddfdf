/**
 * How the client prints: tables and colours on a terminal; plain text when stdout is not a TTY or NO_COLOR is
 * set; one JSON document with --json (stable field names: the API's).
 */
export interface Output {
  json: boolean;
  /** Colours, spinners and progress bars are allowed. */
  fancy: boolean;
  line(text?: string): void;
  /** With --json: the value as JSON; otherwise nothing (the caller prints text). */
  data(value: unknown): void;
  table(rows: ReadonlyArray<Record<string, string>>, columns: readonly string[]): void;
  bold(text: string): string;
  dim(text: string): string;
  green(text: string): string;
  red(text: string): string;
  yellow(text: string): string;
  /** A progress bar on stderr (a no-op unless fancy). */
  progress(label: string, total: number): { tick(): void; done(): void };
}

export function createOutput(options: { json: boolean }, env: NodeJS.ProcessEnv = process.env): Output {
  const tty = process.stdout.isTTY === true;
  const fancy = tty && !options.json && env.NO_COLOR === undefined && env.TERM !== 'dumb';
  const paint = (code: string) => (text: string) => (fancy ? `\u001b[${code}m${text}\u001b[0m` : text);
  const write = (text: string) => process.stdout.write(text);
  return {
    json: options.json,
    fancy,
    line: (text = '') => {
      if (!options.json) write(`${text}\n`);
    },
    data: (value) => {
      if (options.json) write(`${JSON.stringify(value, null, 2)}\n`);
    },
    table(rows, columns) {
      if (options.json) return;
      const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => (r[c] ?? '').length)));
      const format = (cells: string[]) =>
        cells
          .map((cell, i) => cell.padEnd(widths[i] ?? 0))
          .join('  ')
          .trimEnd();
      write(`${paint('1')(format(columns.map((c) => c.toUpperCase())))}\n`);
      for (const row of rows) write(`${format(columns.map((c) => row[c] ?? ''))}\n`);
    },
    bold: paint('1'),
    dim: paint('2'),
    green: paint('32'),
    red: paint('31'),
    yellow: paint('33'),
    progress(label, total) {
      if (!fancy || !process.stderr.isTTY) return { tick() {}, done() {} };
      let done = 0;
      const draw = () => {
        const width = 24;
        const filled = total === 0 ? width : Math.round((done / total) * width);
        process.stderr.write(
          `\r${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total}`,
        );
      };
      draw();
      return {
        tick() {
          done++;
          draw();
        },
        done() {
          process.stderr.write('\n');
        },
      };
    },
  };
}

/** A UTC time as `2026-12-01 09:00:00 UTC`, and the same in the local zone. */
export function formatTimes(epochMs: number): { utc: string; local: string } {
  const date = new Date(epochMs);
  const utc = `${date
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d{3}Z$/, '')} UTC`;
  const local = date.toLocaleString('en-GB', {
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    hour: '2-digit',
    minute: '2-digit',
    timeZoneName: 'short',
  });
  return { utc, local };
}
