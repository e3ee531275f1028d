import type { FastifyReply, FastifyRequest } from 'fastify';
import { isEmbedderError } from '@embedder-rag/core';
import type { EmbedResult } from '@embedder-rag/embedder';
import type { AppContext } from './context';
import { HttpError } from './errors';
import type { ServedModel } from './models';
import type { InputValue } from './schemas';

/** Options shared by /embed, /v1/embeddings and /similarity. */
export interface InferenceOptions {
  normalize?: boolean;
  truncate?: boolean | null;
  truncationDirection?: string;
  dimensions?: number | null;
  promptName?: string | null;
  /** The request field holding the inputs, named in error messages. */
  field: string;
}

/**
 * An AbortSignal that fires when the client goes away before the answer is written, so the facade drops its
 * queued work. The response's `close` event fires on disconnect and also after a normal finish; only the first
 * case aborts.
 */
export function disconnectSignal(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  const response = reply.raw;
  const onClose = () => {
    if (!response.writableFinished) controller.abort(new DOMException('client disconnected', 'AbortError'));
  };
  response.once('close', onClose);
  return controller.signal;
}

/** TEI's `inputs`: a text, ids, or a batch of either → a list of texts (ids decoded with the model's tokenizer). */
export async function toTexts(model: ServedModel, inputs: InputValue | InputValue[], field: string): Promise<string[]> {
  const list: InputValue[] =
    typeof inputs === 'string' ? [inputs] : inputs.length > 0 && inputs.every((item) => typeof item === 'number') ? [inputs as number[]] : (inputs as InputValue[]);
  if (list.length === 0) throw new HttpError(400, 'Empty', `\`${field}\` cannot be empty`);
  const idLists: number[][] = [];
  list.forEach((item, index) => {
    if (item.length === 0) {
      throw new HttpError(400, 'Empty', `\`${field}[${index}]\` is ${typeof item === 'string' ? 'an empty string' : 'an empty id list'}`);
    }
    if (typeof item !== 'string') idLists.push(item);
  });
  if (idLists.length === 0) return list as string[];
  const decoded = await model.generator.decode(idLists, { skipSpecialTokens: true });
  let next = 0;
  return list.map((item) => (typeof item === 'string' ? item : decoded[next++]!));
}

/** Runs one request's texts through the model, with the server's limits, metrics and disconnect handling. */
export async function runEmbedding(
  ctx: AppContext,
  model: ServedModel,
  texts: string[],
  options: InferenceOptions,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<EmbedResult> {
  const { config, metrics } = ctx;
  if (texts.length > config.maxClientBatchSize) {
    throw new HttpError(
      413,
      'Validation',
      `batch size ${texts.length} > maximum allowed batch size ${config.maxClientBatchSize} (EMBEDDER_MAX_CLIENT_BATCH_SIZE)`,
    );
  }
  const dimension = model.generator.model.dimension;
  if (options.dimensions !== undefined && options.dimensions !== null && options.dimensions > dimension) {
    throw new HttpError(422, 'Validation', `dimensions must be from 1 to ${dimension} for model '${model.name}', got ${options.dimensions}`);
  }
  if (ctx.inFlight >= config.maxConcurrentRequests) {
    throw new HttpError(429, 'Overloaded', `more than ${config.maxConcurrentRequests} requests in flight (EMBEDDER_MAX_CONCURRENT_REQUESTS)`, {
      'retry-after': '1',
    });
  }
  const method = texts.length > 1 ? 'batch' : 'single';
  metrics.requestCount.inc({ method });
  ctx.inFlight += 1;
  try {
    const direction = options.truncationDirection?.toLowerCase() as 'left' | 'right' | undefined;
    const result = await model.generator.embedWithDetails(texts, {
      ...(options.normalize === undefined ? {} : { normalize: options.normalize }),
      ...(options.truncate === undefined || options.truncate === null ? {} : { truncate: options.truncate }),
      ...(direction === undefined ? {} : { truncationDirection: direction }),
      ...(options.dimensions === undefined || options.dimensions === null ? {} : { dimensions: options.dimensions }),
      // An unknown prompt name is the library's INVALID_INPUT: 422 naming the model's prompts.
      ...(options.promptName === undefined || options.promptName === null ? {} : { promptName: options.promptName }),
      signal: disconnectSignal(reply),
    });
    ctx.lastBackendError = undefined;
    recordTimings(ctx, result, texts, reply);
    metrics.requestSuccess.inc({ method });
    return result;
  } catch (error) {
    if (isEmbedderError(error, 'OVERLOADED')) throw overloaded(error.message, model);
    if (isEmbedderError(error, 'INFERENCE_FAILED') || isEmbedderError(error, 'BACKEND_UNAVAILABLE')) {
      ctx.lastBackendError = error.message;
    }
    request.log.debug({ err: error }, 'inference failed');
    throw error;
  } finally {
    ctx.inFlight -= 1;
  }
}

/** A 429 whose Retry-After is the time the model needs to work through its queue, from its own batch timings. */
function overloaded(message: string, model: ServedModel): HttpError {
  const stats = model.generator.getStats();
  const perInputMs = stats.totalEmbeddings > 0 ? (stats.avgBatchTimeMs * stats.totalBatches) / stats.totalEmbeddings : 10;
  const seconds = Math.min(60, Math.max(1, Math.ceil((model.generator.queuedInputs() * perInputMs) / 1000)));
  return new HttpError(429, 'Overloaded', `${message} (EMBEDDER_QUEUE_SIZE)`, { 'retry-after': String(seconds) });
}

function recordTimings(ctx: AppContext, result: EmbedResult, texts: string[], reply: FastifyReply): void {
  const { metrics } = ctx;
  const { timings } = result;
  let tokens = 0;
  for (const count of result.tokenCounts) {
    tokens += count;
    metrics.inputLength.observe(count);
  }
  let characters = 0;
  for (const text of texts) characters += text.length;
  metrics.tokenizationDuration.observe(timings.tokenizationMs / 1000);
  metrics.queueDuration.observe(timings.queueMs / 1000);
  metrics.inferenceDuration.observe(timings.inferenceMs / 1000);
  reply.headers({
    'x-total-time': String(Math.round(timings.totalMs)),
    'x-tokenization-time': String(Math.round(timings.tokenizationMs)),
    'x-queue-time': String(Math.round(timings.queueMs)),
    'x-inference-time': String(Math.round(timings.inferenceMs)),
    'x-compute-tokens': String(tokens),
    'x-compute-characters': String(characters),
  });
}
