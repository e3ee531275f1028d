import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { openPersistentCache } from './index';
import { sameBytes, vectorFor } from './testing/vectors';

const hooks = fileURLToPath(new URL('./testing/strip-types-hooks.mjs', import.meta.url));
const writerScript = fileURLToPath(new URL('./testing/cache-writer.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'embedder-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Writer {
  /** Highest i reported as committed, -1 before the first. */
  highest: () => number;
  ready: Promise<void>;
  /** Resolves once entry i is reported committed (or the writer ended). */
  reached: (i: number) => Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
  kill: () => void;
}

/** Starts the real store in a child `node` process writing k<start>… (forever when count is 0). */
function startWriter(path: string, start: number, count: number, maxEntries: number): Writer {
  const child = spawn(
    process.execPath,
    ['--conditions=@embedder-rag/source', '--experimental-strip-types', '--disable-warning=ExperimentalWarning', '--import', hooks, writerScript, path, `${start}`, `${count}`, `${maxEntries}`],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  let highest = -1;
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  let pending = '';
  let ended = false;
  const waiting: { i: number; resolve: () => void }[] = [];
  const wake = () => {
    for (const w of waiting.filter((w) => ended || highest >= w.i)) {
      waiting.splice(waiting.indexOf(w), 1);
      w.resolve();
    }
  };
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    const lines = (pending + chunk).split('\n');
    pending = lines.pop() ?? ''; // a line is complete only once its newline arrived
    for (const line of lines) {
      if (line === 'ready') markReady();
      else if (line.startsWith('at ')) highest = Number(line.slice(3));
    }
    wake();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  // 'close', not 'exit': output still in the pipe when the process dies arrives after 'exit'.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => {
      ended = true;
      markReady();
      wake();
      resolve({ code, signal, stdout, stderr });
    }),
  );
  const reached = (i: number) =>
    new Promise<void>((resolve) => {
      waiting.push({ i, resolve });
      wake();
    });
  return { highest: () => highest, ready, reached, exited, kill: () => child.kill('SIGKILL') };
}

/**
 * Every key in [0, end) reads back bit-identical or is absent, and these keys (with the parent's own entry) are every
 * row the store counts: nothing was committed beyond `end`. Returns how many of [from, end) are present.
 */
async function verify(path: string, end: number, from: number, maxEntries: number): Promise<number> {
  const cache = openPersistentCache({ path, maxEntries });
  let present = 0;
  let all = cache.has('parent') ? 1 : 0;
  for (let i = 0; i < end; i++) {
    const got = cache.get(`k${i}`);
    if (got === undefined) continue;
    expect(sameBytes(got, vectorFor(i)), `k${i} differs from what was written`).toBe(true);
    all++;
    if (i >= from) present++;
  }
  expect(cache.stats().size, `rows other than k0…k${end - 1} and parent: committed but never reported?`).toBe(all);
  expect(cache.stats().size).toBeLessThanOrEqual(maxEntries);
  // Writing continues in the reopened store.
  cache.set('parent', vectorFor(-1));
  expect(sameBytes(cache.get('parent'), vectorFor(-1))).toBe(true);
  await cache.close();
  return present;
}

// Each test spawns node processes and writes a few thousand transactions: seconds on a quiet machine, minutes on one
// loaded 25 times over (measured at load 50 on 2 cores). The timeout is a hang detector, not a speed bound.
const HANG_MS = 600_000;

describe('persistent cache crash safety (real child processes)', { timeout: HANG_MS }, () => {
  it('survives 20 SIGKILLs at random moments: every entry whole or absent, and writing continues', async () => {
    const path = join(dir, 'killed.db');
    const maxEntries = 100;
    let random = 20_260_101;
    const next = () => (random = (Math.imul(random, 1103515245) + 12345) >>> 0) / 2 ** 32;
    let start = 0;
    let writtenRounds = 0;
    let totalWritten = 0;
    for (let round = 0; round < 20; round++) {
      const writer = startWriter(path, start, 0, maxEntries);
      // Every fourth kill lands at a random moment from spawn (possibly while the store is being opened or
      // created); the others once the writer reported a random number (1 to 2 x maxEntries) of entries of this
      // round, plus a few random ms: counted in entries, not time, so a slow machine still writes past the bound.
      if (round % 4 === 0) await new Promise((resolve) => setTimeout(resolve, next() * 1000));
      else {
        await writer.reached(start + Math.floor(next() * 2 * maxEntries));
        await new Promise((resolve) => setTimeout(resolve, next() * 20));
      }
      writer.kill();
      const { signal, stdout, stderr } = await writer.exited;
      expect(signal, `round ${round}: the writer ended by itself\n${stderr}`).toBe('SIGKILL');
      expect(stdout).not.toContain('MISMATCH');
      expect(stderr).toBe('');
      const highest = writer.highest();
      // The writer reports each entry synchronously before writing the next: only the entry after the last report
      // may have committed unreported (verify checks that nothing beyond it is in the store).
      const end = Math.max(start, highest + 1) + 1;
      const present = await verify(path, end, start, maxEntries);
      if (highest >= start) {
        writtenRounds++;
        totalWritten += highest - start + 1;
        // Everything reported as committed in this round survived, up to what the bound evicted: the newest
        // maxEntries are all of this round (eviction follows the write sequence; the parent's entry is older).
        expect(present).toBeGreaterThanOrEqual(Math.min(highest - start + 1, maxEntries));
      }
      start = end;
    }
    expect(writtenRounds).toBeGreaterThanOrEqual(15);
    expect(totalWritten).toBeGreaterThan(maxEntries); // the bound was reached: kills also hit evictions
  });

  it('lets two processes write the same file at once', async () => {
    const path = join(dir, 'shared.db');
    const writers = [startWriter(path, 0, 300, 10_000), startWriter(path, 1000, 300, 10_000)];
    for (const writer of writers) {
      const { code, stdout, stderr } = await writer.exited;
      expect(stderr).toBe('');
      expect(code).toBe(0);
      expect(stdout).toContain('done');
    }
    const cache = openPersistentCache({ path, maxEntries: 10_000 });
    for (const base of [0, 1000]) {
      for (let i = base; i < base + 300; i++) expect(sameBytes(cache.get(`k${i}`), vectorFor(i))).toBe(true);
    }
    expect(cache.stats().size).toBe(600);
    await cache.close();
  });
});
