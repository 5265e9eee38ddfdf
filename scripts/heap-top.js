#!/usr/bin/env node
// Prints the top of a V8 sampling heap profile (bench: XGATE_BENCH_HEAP_PROFILE=DIR): bytes allocated per function,
// per file or package, and per innermost frame of xgate's own code (src/) on the allocating stack.
// Usage: node scripts/heap-top.js <file.heapprofile> [count]
import { readFileSync } from 'node:fs';
import { frameLabels } from './profile-frames.js';

const [file, countArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: node scripts/heap-top.js <file.heapprofile> [count]');
  process.exit(2);
}
const count = Number(countArg ?? 15);
const profile = JSON.parse(readFileSync(file, 'utf8'));
const functions = new Map();
const places = new Map();
const ours = new Map();
let total = 0;
const add = (map, key, bytes) => map.set(key, (map.get(key) ?? 0) + bytes);

/** Walks the call tree with the innermost src/ frame seen so far on the way down. */
function walk(node, innermostOurs) {
  const { callFrame, selfSize, children } = node;
  const { where, name } = frameLabels(callFrame);
  const mine = where.startsWith('src/') ? name : innermostOurs;
  total += selfSize;
  add(functions, name, selfSize);
  add(places, where, selfSize);
  add(ours, mine, selfSize);
  for (const child of children) walk(child, mine);
}
walk(profile.head, '(no src/ frame on the stack)');

const print = (title, map) => {
  console.log(`\n${title}:`);
  for (const [key, bytes] of [...map].sort((a, b) => b[1] - a[1]).slice(0, count)) {
    console.log(
      `${((100 * bytes) / total).toFixed(1).padStart(5)}%  ${(bytes / 1e6).toFixed(0).padStart(5)} MB  ${key}`,
    );
  }
};
console.log(`${(total / 1e6).toFixed(0)} MB allocated (sampled)`);
print('by function (self)', functions);
print('by file or package (self)', places);
print("by innermost frame of xgate's code", ours);
