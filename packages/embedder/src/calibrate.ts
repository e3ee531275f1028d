import { availableParallelism } from 'node:os';
import { chooseTuning, type TuningCandidate } from '@embedder-rag/batch';
import { isEmbedderError, warmupSession, type Backend, type BackendSession, type Dtype, type EmbedderSettings, type Logger, type ModelSpec } from '@embedder-rag/core';
import type { TextEncoding, TextTokenizer } from '@embedder-rag/tokenizer';

/** What optimizeForConstraints' calibration chose, with the session it leaves open. */
export interface Calibration {
  session: BackendSession;
  /** The settings with the chosen dtype, token budget and threads. */
  settings: EmbedderSettings;
  /** For getStats().tuning: the measurements, the choice and the rule that made it. */
  report: Record<string, unknown>;
}

interface Config {
  dtype: Dtype;
  maxBatchTokens: number;
  threads: number;
}

/** Token budgets considered, largest first (so that, other things equal, the largest that fits wins). */
const BUDGETS = [8192, 4096, 2048, 1024, 512, 256];
/** Length of the texts the throughput is measured on (about a typical RAG chunk: the mixed corpus' median is 105). */
const TYPICAL_TOKENS = 128;
/** Rows of maxSeqLength run to measure the per-row cost and memory of the heaviest batches. */
const PROBE_ROWS = 4;
// English prose, tokenized once and cut to the lengths the calibration batches need.
const SAMPLE =
  'Retrieval systems split documents into chunks, embed each chunk as a vector and store the vectors in an index. ' +
  'At query time the question is embedded the same way and the nearest chunks are handed to the language model, ' +
  'which answers from them. The quality of the answer depends on how well the vectors capture meaning, and the cost ' +
  'of the system depends on how fast the chunks can be embedded, which is what this measurement is about. ';

function rssMb(): number {
  return process.memoryUsage.rss() / (1024 * 1024);
}

/** Encodings of exactly `length` tokens (specials kept at both ends). */
function encodingsOf(tokenizer: TextTokenizer, length: number, count: number): TextEncoding[] {
  const full = tokenizer.encode(SAMPLE.repeat(8)).ids;
  const ids = new Int32Array(length);
  ids.set(full.subarray(0, length - 1));
  ids[length - 1] = full[full.length - 1] ?? 0;
  return Array.from({ length: count }, () => ({ ids, fullLength: length, truncated: false }));
}

/** Runs a batch, sampling RSS every 2 ms while the runtime works on its own threads; returns ms and peak RSS (MB). */
async function timedRun(session: BackendSession, tokenizer: TextTokenizer, encodings: TextEncoding[]): Promise<{ ms: number; peakMb: number }> {
  const batch = tokenizer.collate(encodings);
  let peakMb = rssMb();
  const timer = setInterval(() => (peakMb = Math.max(peakMb, rssMb())), 2);
  const started = performance.now();
  try {
    await session.run(batch);
  } finally {
    clearInterval(timer);
  }
  const ms = performance.now() - started;
  return { ms, peakMb: Math.max(peakMb, rssMb()) };
}

/**
 * Measures the model at create() time for optimizeForConstraints. For each dtype (the configured one first, then the
 * other when its weights are present): the time and memory of a batch of maxSeqLength texts (the worst case, which
 * is linear in the number of rows, so each token budget's heaviest batch is extrapolated from it) and the throughput
 * on 128-token texts; for the best choice, the same with half the threads when the throughput target leaves room.
 * {@link chooseTuning} picks, and the chosen session is returned open. About a second per dtype on 2 cores.
 */
export async function calibrate(args: {
  backend: Backend;
  spec: ModelSpec;
  tokenizer: TextTokenizer;
  settings: EmbedderSettings;
  logger: Logger;
}): Promise<Calibration> {
  const { backend, spec, tokenizer, settings, logger } = args;
  const targets = settings.constraints ?? {};
  const started = performance.now();
  const maxSeq = tokenizer.maxSeqLength;
  const candidates: TuningCandidate<Config>[] = [];
  const skipped: Record<string, string> = {};
  const dtypes: Dtype[] = settings.dtype === 'fp32' ? ['fp32', 'q8'] : [settings.dtype, 'fp32'];
  let open: { session: BackendSession; dtype: Dtype; threads: number } | undefined;

  const close = async () => {
    await open?.session.dispose();
    open = undefined;
  };
  const load = async (dtype: Dtype, threads: number): Promise<BackendSession> => {
    await close();
    const session = await backend.createSession(spec, { dtype, device: settings.device, intraOpThreads: threads, replicas: 1, memoryArena: settings.memoryArena, tokenize: (texts) => tokenizer.encodeBatch(texts).batch, logger });
    open = { session, dtype, threads };
    await warmupSession(session, tokenizer.encodeBatch(['warm-up']).batch);
    return session;
  };

  /** Loads a session and adds one candidate per token budget, extrapolated from two probe batches. */
  const measure = async (dtype: Dtype, threads: number, budgets: readonly number[]): Promise<void> => {
    await close();
    const beforeMb = rssMb();
    const session = await load(dtype, threads);
    const loadedMb = rssMb();
    const heavy = await timedRun(session, tokenizer, encodingsOf(tokenizer, maxSeq, PROBE_ROWS));
    const rows = Math.max(1, Math.min(settings.batchSize, Math.floor(2048 / TYPICAL_TOKENS)));
    const typical = await timedRun(session, tokenizer, encodingsOf(tokenizer, TYPICAL_TOKENS, rows));
    const msPerRow = heavy.ms / PROBE_ROWS;
    const mbPerRow = Math.max(0, heavy.peakMb - loadedMb) / PROBE_ROWS;
    for (const budget of budgets) {
      const heaviestRows = Math.max(1, Math.min(settings.batchSize, Math.floor(budget / maxSeq)));
      candidates.push({
        config: { dtype, maxBatchTokens: budget, threads },
        batchMs: msPerRow * heaviestRows,
        itemsPerSecond: rows / (typical.ms / 1000),
        // What the process held before, plus this session's weights, plus the activations of the heaviest batch.
        peakMemoryMb: beforeMb + Math.max(0, loadedMb - beforeMb) + mbPerRow * heaviestRows,
        preference: dtype === 'fp32' ? 0 : 1,
        threads,
      });
    }
  };

  for (const dtype of dtypes) {
    try {
      await measure(dtype, settings.threads, BUDGETS);
    } catch (error) {
      // The other dtype's weights may simply not be there (only the configured dtype is downloaded).
      if (dtype === settings.dtype || !isEmbedderError(error)) throw error;
      skipped[dtype] = error.message;
      logger.info('calibration skipped a dtype', { dtype, reason: error.message });
    }
  }

  let choice = chooseTuning(candidates, targets);
  const fewer = Math.max(1, Math.floor(Math.min(settings.threads, availableParallelism()) / 2));
  const roomy = targets.targetThroughput !== undefined && choice.chosen.itemsPerSecond >= 1.5 * targets.targetThroughput;
  if (roomy && fewer < choice.chosen.threads) {
    await measure(choice.chosen.config.dtype, fewer, BUDGETS);
    choice = chooseTuning(candidates, targets);
  }

  const chosen = choice.chosen.config;
  const session = open?.dtype === chosen.dtype && open.threads === chosen.threads ? open.session : await load(chosen.dtype, chosen.threads);
  const round = (n: number) => Math.round(n * 10) / 10;
  const report = {
    chosen: { dtype: chosen.dtype, maxBatchTokens: chosen.maxBatchTokens, threads: chosen.threads },
    reason: choice.reason,
    met: choice.met,
    predicted: {
      heaviestBatchMs: round(choice.chosen.batchMs),
      embeddingsPerSecondAt128Tokens: round(choice.chosen.itemsPerSecond),
      peakMemoryMb: round(choice.chosen.peakMemoryMb),
    },
    measured: candidates.map((c) => ({ ...c.config, heaviestBatchMs: round(c.batchMs), perSecond: round(c.itemsPerSecond), peakMemoryMb: round(c.peakMemoryMb) })),
    ...(Object.keys(skipped).length > 0 ? { skipped } : {}),
    calibrationMs: Math.round(performance.now() - started),
  };
  logger.info('calibrated for constraints', report);
  // One replica: the measurements are of one, and a latency target is best met by one batch on every thread.
  return { session, settings: { ...settings, dtype: chosen.dtype, maxBatchTokens: chosen.maxBatchTokens, threads: chosen.threads, replicas: 1 }, report };
}
