import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const inFlight = new Map<string, Promise<unknown>>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function acquire(lockPath: string, signal: AbortSignal | undefined): Promise<void> {
  await mkdir(dirname(lockPath), { recursive: true });
  for (;;) {
    try {
      const handle = await open(lockPath, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = Number((await readFile(lockPath, 'utf8').catch(() => '')).trim());
    // A lock whose process has died (or that is still being written) is taken over.
    if (!Number.isSafeInteger(owner) || owner <= 0 || !alive(owner)) {
      await sleep(50, undefined, { signal });
      const again = Number((await readFile(lockPath, 'utf8').catch(() => '')).trim());
      if (again === owner || again === 0) await rm(lockPath, { force: true });
      continue;
    }
    await sleep(200, undefined, { signal });
  }
}

/**
 * Runs `task` while holding the lock on one blob: calls in this process wait for each other, and other processes
 * (another embedder sharing the cache) are kept out by `lockPath`, a file holding the owner's pid. Two writers would
 * otherwise append to the same `.incomplete` file.
 */
export async function withBlobLock<T>(
  lockPath: string,
  signal: AbortSignal | undefined,
  task: () => Promise<T>,
): Promise<T> {
  for (let pending = inFlight.get(lockPath); pending; pending = inFlight.get(lockPath)) {
    await pending.catch(() => undefined);
  }
  const run = (async () => {
    await acquire(lockPath, signal);
    try {
      return await task();
    } finally {
      await rm(lockPath, { force: true });
    }
  })();
  inFlight.set(lockPath, run);
  try {
    return await run;
  } finally {
    if (inFlight.get(lockPath) === run) inFlight.delete(lockPath);
  }
}
