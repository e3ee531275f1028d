import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The value below which `p` (0..1) of the sorted samples fall (nearest rank). */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

/** This process's peak resident set (VmHWM of /proc/self/status), in MB. */
export function peakRssMb(): number {
  const match = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

/** The machine's 1-minute load average (from /proc/loadavg). */
export function loadAverage(): number {
  return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
}

/** Rounds for display: 3 significant digits below 100, whole numbers above. */
export function round(value: number): number {
  if (!Number.isFinite(value)) return value;
  if (Math.abs(value) >= 100) return Math.round(value);
  return Number(value.toPrecision(3));
}

// This module is bundled into main.js and into each suites/*.js: the child script sits beside main.js.
const here = dirname(fileURLToPath(import.meta.url));
function describeJob(job: object): string {
  return Object.entries(job)
    .filter(([key, value]) => key !== 'kind' && value !== undefined)
    .map(([key, value]) => (typeof value === 'string' ? value : `${key}=${JSON.stringify(value)}`))
    .join(' ');
}

const childScript = join(basename(here) === 'suites' ? dirname(here) : here, 'child.js');

/**
 * Runs one measurement job in a fresh Node process (so peak RSS and cold start belong to that system alone) and
 * returns the JSON it prints last. The child is dist/child.js, beside the runner.
 */
export function runChild<T>(job: object, timeoutMs = 600_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [childScript, JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const last = stdout.trim().split('\n').at(-1) ?? '';
      if (code === 0 && last.startsWith('{')) {
        // Progress on stderr: a full run takes minutes.
        process.stderr.write(`  done ${describeJob(job)} (load ${loadAverage().toFixed(2)})\n`);
        resolve(JSON.parse(last) as T);
        return;
      }
      reject(new Error(`bench child ${JSON.stringify(job)} failed (${signal ?? `exit ${code}`}): ${stderr.trim().split('\n').slice(-5).join(' | ')}`));
    });
  });
}
