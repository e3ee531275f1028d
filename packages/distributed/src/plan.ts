import { createHash } from 'node:crypto';

/** What a job carries: the chunks (key + text) and the digest of the model they must be embedded with. */
export interface JobData {
  model: string;
  keys: string[];
  texts: string[];
  /**
   * The text put before every text (the producer's --prompt / --prompt-name, or the model's default prompt, resolved
   * by the producer; '' = none). Absent in jobs of producers before prompts: the worker's model default applies.
   */
  prompt?: string;
}

/** A planned job: its content-derived id and its data. */
export interface PlannedJob {
  id: string;
  data: JobData;
  tokens: number;
}

/** How big a job may grow. */
export interface JobBudget {
  /** Tokens per job ([CLS]/[SEP] included). @default 8192 */
  maxTokens?: number;
  /** Chunks per job. @default 512 */
  maxChunks?: number;
}

export const DEFAULT_JOB_TOKENS = 8192;
export const DEFAULT_JOB_CHUNKS = 512;

/** The id of a job holding these chunk keys: the same chunks always give the same id, so re-adding it adds nothing. */
export function jobIdOf(keys: readonly string[]): string {
  const hash = createHash('sha256');
  for (const key of keys) hash.update(key);
  return `j${hash.digest('hex')}`;
}

/** The id of the single-chunk job a failing chunk is retried in, alone. */
export function chunkJobId(key: string): string {
  return `c${key}`;
}

/**
 * Splits chunks into jobs in input order, each up to the token budget (a chunk over the budget gets a job of its
 * own). A key repeated in the input is planned once.
 */
export function planJobs(
  modelDigest: string,
  chunks: ReadonlyArray<{ key: string; text: string; tokens: number }>,
  budget: JobBudget = {},
  prompt?: string,
): PlannedJob[] {
  const maxTokens = budget.maxTokens ?? DEFAULT_JOB_TOKENS;
  const maxChunks = budget.maxChunks ?? DEFAULT_JOB_CHUNKS;
  const jobs: PlannedJob[] = [];
  const seen = new Set<string>();
  let keys: string[] = [];
  let texts: string[] = [];
  let tokens = 0;
  const close = () => {
    if (keys.length === 0) return;
    jobs.push({ id: jobIdOf(keys), data: { model: modelDigest, keys, texts, ...(prompt === undefined ? {} : { prompt }) }, tokens });
    keys = [];
    texts = [];
    tokens = 0;
  };
  for (const chunk of chunks) {
    if (seen.has(chunk.key)) continue;
    seen.add(chunk.key);
    if (keys.length > 0 && (tokens + chunk.tokens > maxTokens || keys.length >= maxChunks)) close();
    keys.push(chunk.key);
    texts.push(chunk.text);
    tokens += chunk.tokens;
  }
  close();
  return jobs;
}
