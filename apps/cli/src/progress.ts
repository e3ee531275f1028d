import { SingleBar } from 'cli-progress';

/** Progress of an embed run on stderr. */
export interface Progress {
  /** `done` embeddings written so far; `position` is the same in the unit of the total (texts or bytes). */
  update(done: number, position: number): void;
  stop(): void;
}

/** Options of {@link createProgress}. */
export interface ProgressOptions {
  /** Draw at all (the CLI passes `process.stderr.isTTY`). */
  enabled: boolean;
  /** The end of `position`: the text count, the input file's bytes, or undefined when unknown (stdin). */
  total?: number;
  /** Embeddings already done before this run (`--resume`), left out of the rate. @default 0 */
  initialDone?: number;
  /** `position` already reached before this run. @default 0 */
  initialPosition?: number;
}

const quiet: Progress = { update: () => {}, stop: () => {} };

/**
 * A cli-progress bar: count, embeddings per second and (when the total is known) percentage and ETA. For a file
 * the bar runs on bytes read, so the ETA holds without counting the file's lines first.
 */
export function createProgress(options: ProgressOptions): Progress {
  if (!options.enabled) return quiet;
  const known = options.total !== undefined && options.total > 0;
  const bar = new SingleBar({
    stream: process.stderr,
    format: known
      ? '{bar} {percentage}% | {done} embeddings | {rate}/s | ETA {eta_formatted}'
      : '{done} embeddings | {rate}/s | {duration_formatted}',
    hideCursor: true,
    clearOnComplete: false,
    etaBuffer: 50,
    fps: 5,
  });
  const started = performance.now();
  let stopped = false;
  const doneAtStart = options.initialDone ?? 0;
  bar.start(known ? options.total! : 1, known ? (options.initialPosition ?? 0) : 0, { done: doneAtStart, rate: '0' });
  return {
    update(done, position) {
      const seconds = (performance.now() - started) / 1000;
      const rate = seconds > 0 ? ((done - doneAtStart) / seconds).toFixed(0) : '0';
      bar.update(known ? position : 0, { done, rate });
    },
    stop() {
      if (stopped) return;
      stopped = true;
      bar.stop();
    },
  };
}
