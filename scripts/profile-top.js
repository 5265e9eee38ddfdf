#!/usr/bin/env node
// Prints the top of a V8 CPU profile (node --cpu-prof): self time per function, and per file/package.
// Usage: node scripts/profile-top.js <file.cpuprofile> [count]
import { readFileSync } from 'node:fs';
import { frameLabels } from './profile-frames.js';

const [file, countArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: node scripts/profile-top.js <file.cpuprofile> [count]');
  process.exit(2);
}
const count = Number(countArg ?? 15);
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const self = new Map();
for (let i = 0; i < profile.samples.length; i++) {
  const delta = profile.timeDeltas[i] ?? 0;
  self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + delta);
}
const total = [...self.values()].reduce((a, b) => a + b, 0);
const functions = new Map();
const places = new Map();
for (const [id, micros] of self) {
  const { where, name } = frameLabels(byId.get(id).callFrame);
  functions.set(name, (functions.get(name) ?? 0) + micros);
  places.set(where, (places.get(where) ?? 0) + micros);
}
const top = (map) =>
  [...map]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, micros]) => `${((100 * micros) / total).toFixed(1).padStart(5)}%  ${name}`)
    .join('\n');
console.log(
  `${(total / 1e6).toFixed(1)} s sampled\n\nby function (self):\n${top(functions)}\n\nby file or package (self):\n${top(places)}`,
);
