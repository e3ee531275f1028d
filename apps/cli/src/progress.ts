/** Progress of an embed run on stderr, counted in embeddings (one per input text). */
export interface Progress {
  /** `done` embeddings written so far, those of an earlier run (`--resume`) included. */
  update(done: number): void;
  /** The number of texts, once known (a file's are counted while the model loads). */
  setTotal(total: number): void;
  stop(): void;
}

/** Options of {@link createProgress}. */
export interface ProgressOptions {
  /** Draw at all (see {@link shouldDrawProgress}). */
  enabled: boolean;
  /** Texts in the input, when known now. */
  total?: number;
  /** Embeddings already done before this run (`--resume`), left out of the rate. @default 0 */
  initialDone?: number;
  /** Draw even when stderr is no terminal (`--progress`): one line every few seconds. @default false */
  forced?: boolean;
}

/**
 * Whether `embed` draws its bar: `--progress` / `--no-progress` decide; otherwise only on a terminal's stderr, and
 * not when the vectors themselves go to that terminal (the bar's redraws would land between the JSON lines).
 */
export function shouldDrawProgress(flag: boolean | undefined, stderrIsTTY: boolean, stdoutIsTTY: boolean, toFile: boolean): boolean {
  if (flag !== undefined) return flag;
  return stderrIsTTY && (toFile || !stdoutIsTTY);
}

/**
 * Embeddings per second over the last `windowMs`, so the ETA holds still: batches finish in bursts (a window of texts
 * at once, then nothing while the next runs), and a rate between two nearby moments would swing from zero to
 * thousands. Measured from the start until the run is older than the window. Points closer than `resolutionMs` share
 * one slot, so memory stays bounded however fast embeddings come.
 */
export class RateMeter {
  readonly #points: { ms: number; done: number }[];
  readonly #windowMs: number;
  readonly #resolutionMs: number;

  constructor(startMs: number, startDone = 0, windowMs = 20_000, resolutionMs = 100) {
    this.#points = [{ ms: startMs, done: startDone }];
    this.#windowMs = windowMs;
    this.#resolutionMs = resolutionMs;
  }

  /** Records that `done` embeddings are finished at `nowMs`. */
  record(done: number, nowMs: number): void {
    const points = this.#points;
    const last = points.at(-1)!;
    if (points.length > 1 && nowMs - points.at(-2)!.ms < this.#resolutionMs) {
      last.ms = nowMs;
      last.done = done;
    } else {
      points.push({ ms: nowMs, done });
    }
    // Keep one point at least a window old as the anchor.
    while (points.length > 2 && nowMs - points[1]!.ms >= this.#windowMs) points.shift();
  }

  /** Embeddings per second (0 before anything is done). */
  get rate(): number {
    const first = this.#points[0]!;
    const last = this.#points.at(-1)!;
    const seconds = (last.ms - first.ms) / 1000;
    return seconds > 0 ? (last.done - first.done) / seconds : 0;
  }

  /** Seconds left for `total` at that rate; undefined while there is no rate yet. */
  etaSeconds(total: number): number | undefined {
    const rate = this.rate;
    if (rate <= 0) return undefined;
    return Math.max(0, total - this.#points.at(-1)!.done) / rate;
  }
}

/** `45s`, `3m 07s`, `1h 02m`; `…` when unknown. */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '…';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

const quiet: Progress = { update: () => {}, setTotal: () => {}, stop: () => {} };

/**
 * A cli-progress bar on stderr: embeddings done of the input's texts, the percentage of those, the smoothed rate and
 * ETA. Without a known total (stdin) it shows the count, rate and elapsed time.
 */
export async function createProgress(options: ProgressOptions): Promise<Progress> {
  if (!options.enabled) return quiet;
  // Loaded only to draw: cli-progress and its dependencies are 21 CommonJS modules, part of every run's start-up
  // otherwise (piped output, --no-progress).
  const { SingleBar } = await import('cli-progress');
  const initialDone = options.initialDone ?? 0;
  const meter = new RateMeter(performance.now(), initialDone);
  let total = options.total;
  let done = initialDone;
  const payload = () => ({
    rate: meter.rate.toFixed(0),
    eta: total === undefined ? '' : formatDuration(meter.etaSeconds(total)),
    of: total === undefined ? '' : `/${total}`,
  });
  const bar = new SingleBar({
    stream: process.stderr,
    format: () => {
      const p = payload();
      const counted = `${done}${p.of} embeddings | ${p.rate}/s`;
      if (total === undefined) return counted;
      const fraction = total > 0 ? Math.min(1, done / total) : 1;
      const width = 30;
      const filled = Math.round(fraction * width);
      return `${'█'.repeat(filled)}${'░'.repeat(width - filled)} ${Math.floor(fraction * 100)}% | ${counted} | ETA ${p.eta}`;
    },
    hideCursor: options.forced !== true,
    clearOnComplete: false,
    fps: 5,
    noTTYOutput: options.forced === true,
    notTTYSchedule: 2_000,
  });
  let stopped = false;
  bar.start(total ?? 1, initialDone);
  return {
    update(now) {
      done = now;
      meter.record(now, performance.now());
      bar.update(now);
    },
    setTotal(count) {
      total = count;
      bar.setTotal(count);
    },
    stop() {
      if (stopped) return;
      stopped = true;
      bar.stop();
    },
  };
}
