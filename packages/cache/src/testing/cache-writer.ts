// A child process for the crash tests: writes k<start>, k<start+1>, … to the persistent cache at <path> in a tight
// loop (forever when <count> is 0), reading back a recent entry after each write, and reports progress on stdout
// ("ready", "at <i>" after entry i is committed, "done"). Run with --conditions=@embedder-rag/source and
// --import ./strip-types-hooks.mjs.
//
// Progress goes out with a synchronous write(2) on fd 1, never through process.stdout: on Linux process.stdout is
// asynchronous for a pipe, and this loop never yields to the event loop, so once the pipe was full (a parent starved
// of CPU for a few hundred ms) every later line waited in this process's memory and died with it at SIGKILL: the
// parent saw "at 170" while k2366 was committed (issue 15). Written synchronously, a line is in the kernel before the
// next entry is written, and the parent reads all of them even after the kill: at most the one entry after the last
// line can be committed and unreported. A full pipe now makes this writer wait for the parent instead.
import { writeSync } from 'node:fs';
import { openPersistentCache } from '../persistent-cache';
import { sameBytes, vectorFor } from './vectors';

const pause = new Int32Array(new SharedArrayBuffer(4));

/** Writes the whole line to fd 1 before returning (waits out EAGAIN should the descriptor be non-blocking). */
function report(line: string): void {
  const bytes = Buffer.from(`${line}\n`);
  for (let done = 0; done < bytes.length; ) {
    try {
      done += writeSync(1, bytes, done);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
      Atomics.wait(pause, 0, 0, 1);
    }
  }
}

const [path, startArg = '0', countArg = '0', maxArg = '1000'] = process.argv.slice(2);
if (path === undefined) throw new Error('usage: cache-writer <path> [start] [count] [maxEntries]');
const start = Number(startArg);
const count = Number(countArg);
const cache = openPersistentCache({ path, maxEntries: Number(maxArg) });
report('ready');
for (let i = start; count === 0 || i < start + count; i++) {
  cache.set(`k${i}`, vectorFor(i));
  const back = i - 3 >= start ? cache.get(`k${i - 3}`) : undefined;
  if (back !== undefined && !sameBytes(back, vectorFor(i - 3))) {
    report(`MISMATCH k${i - 3}`);
    process.exit(3);
  }
  report(`at ${i}`);
}
await cache.close();
report('done');
