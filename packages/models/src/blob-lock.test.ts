import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, expect, it } from 'vitest';
import { withBlobLock } from './blob-lock';

const temps: string[] = [];
afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function lockFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'embedder-lock-'));
  temps.push(dir);
  mkdirSync(join(dir, '.locks'));
  return join(dir, '.locks', 'blob.embedder.lock');
}

it('waits while another live process holds the lock, and runs once it is released', async () => {
  const lock = lockFile();
  const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
  try {
    writeFileSync(lock, String(other.pid));
    let ran = false;
    const task = withBlobLock(lock, undefined, async () => {
      ran = true;
      // While the task runs, the lock file names this process.
      expect(existsSync(lock)).toBe(true);
    });
    await sleep(600);
    expect(ran).toBe(false);
    rmSync(lock);
    await task;
    expect(ran).toBe(true);
    expect(existsSync(lock)).toBe(false);
  } finally {
    other.kill();
  }
});

it('serialises calls in one process and releases the lock when a task throws', async () => {
  const lock = lockFile();
  const order: string[] = [];
  const slow = withBlobLock(lock, undefined, async () => {
    order.push('a start');
    await sleep(100);
    order.push('a end');
    throw new Error('a failed');
  });
  const fast = withBlobLock(lock, undefined, async () => {
    order.push('b');
  });
  await expect(slow).rejects.toThrow('a failed');
  await fast;
  expect(order).toEqual(['a start', 'a end', 'b']);
  expect(existsSync(lock)).toBe(false);
});

it('an abort stops the wait', async () => {
  const lock = lockFile();
  writeFileSync(lock, String(process.ppid));
  const controller = new AbortController();
  const task = withBlobLock(lock, controller.signal, async () => 'ran');
  setTimeout(() => controller.abort(), 100);
  await expect(task).rejects.toThrow(/abort/i);
});
