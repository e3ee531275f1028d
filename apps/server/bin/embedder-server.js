#!/usr/bin/env node
// @ts-check
// The embedder-server command and `pnpm start`: a committed file (so installing the workspace can link the bin
// before anything is built) that checks the Node version before the server's imports need node:sqlite, then runs
// dist/main.js in this same process (signals reach the server directly).
import { clearInterval, setInterval } from 'node:timers';
import { unsupportedNodeMessage } from '@embedder-rag/core';

const tooOld = unsupportedNodeMessage();
if (tooOld !== undefined) {
  process.stderr.write(`embedder-server: ${tooOld}\n`);
  process.exit(1);
}

// Started by a package manager's script (`pnpm start`, `npm start`): the script execs node, so pnpm passes SIGTERM
// and SIGINT straight to this process; but a package manager that dies without passing a signal on (SIGKILL, a
// crash) would leave this server running as an orphan that the process manager that started it cannot stop. When the
// parent goes away, stop exactly as on SIGTERM (drain, then exit).
if (process.env.npm_lifecycle_event !== undefined) {
  const parent = process.ppid;
  const watch = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(watch);
    process.kill(process.pid, 'SIGTERM');
  }, 200);
  watch.unref();
}

await import('../dist/main.js');
