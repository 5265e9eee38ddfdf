/**
 * `npm run bench -- <name>…` runs each named benchmark (all when none is named) and prints one JSON
 * object per benchmark on stdout, with the Node.js version it ran on. Each benchmark is `bench/<name>.ts` exporting `run(): Promise<object>`.
 */
const known = [
  'emulator',
  'refresh',
  'dispatch',
  'create',
  'idempotency',
  'text',
  'startup',
  'webhooks',
  'webapp',
  'metrics',
] as const;

const requested = process.argv.slice(2);
const unknown = requested.filter((name) => !(known as readonly string[]).includes(name));
if (unknown.length > 0) {
  console.error(`unknown benchmark: ${unknown.join(', ')} (known: ${known.join(', ')})`);
  process.exit(2);
}

for (const name of requested.length > 0 ? requested : known) {
  const module = (await import(`./${name}.ts`)) as { run: () => Promise<Record<string, unknown>> };
  const figures = await module.run();
  console.log(JSON.stringify({ bench: name, node: process.version, ...figures }));
}
