import type { SerializedError } from '@embedder-rag/core';

/**
 * The calls a worker answers: op name → what a call sends and what its answer is. Both sides are typed from one
 * such map, declared once beside the worker script.
 */
export type Calls = Record<string, { payload: unknown; result: unknown }>;

/** Parent → worker. */
export type ParentMessage =
  | { kind: 'call'; id: number; op: string; payload: unknown }
  | { kind: 'abort'; id: number; reason: SerializedError };

/** One call's answer. */
export type ReplyMessage =
  | { kind: 'reply'; id: number; ok: true; value: unknown; events?: unknown[] }
  | { kind: 'reply'; id: number; ok: false; error: SerializedError; events?: unknown[] };

/** Worker → parent. */
export type WorkerMessage =
  | { kind: 'ready'; value: unknown }
  | { kind: 'failed'; error: SerializedError }
  | ReplyMessage
  /** Answers that settled in the same turn of the worker (a batch's calls), in one message. */
  | { kind: 'replies'; replies: ReplyMessage[] }
  | { kind: 'event'; event: unknown };
