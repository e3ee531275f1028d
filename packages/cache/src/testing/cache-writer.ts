// A child process for the crash tests: writes k<start>, k<start+1>, … to the persistent cache at <path> in a tight
// loop (forever when <count> is 0), reading back a recent entry after each write, and reports progress on stdout
// ("ready", "at <i>" after entry i is committed, "done"). Run with --conditions=@embedder-rag/source and
// --import ./strip-types-hooks.mjs.
import { openPersistentCache } from '../persistent-cache';
import { sameBytes, vectorFor } from './vectors';

const [path, startArg = '0', countArg = '0', maxArg = '1000'] = process.argv.slice(2);
if (path === undefined) throw new Error('usage: cache-writer <path> [start] [count] [maxEntries]');
const start = Number(startArg);
const count = Number(countArg);
const cache = openPersistentCache({ path, maxEntries: Number(maxArg) });
process.stdout.write('ready\n');
for (let i = start; count === 0 || i < start + count; i++) {
  cache.set(`k${i}`, vectorFor(i));
  const back = i - 3 >= start ? cache.get(`k${i - 3}`) : undefined;
  if (back !== undefined && !sameBytes(back, vectorFor(i - 3))) {
    process.stdout.write(`MISMATCH k${i - 3}\n`);
    process.exit(3);
  }
  process.stdout.write(`at ${i}\n`);
}
await cache.close();
process.stdout.write('done\n');
