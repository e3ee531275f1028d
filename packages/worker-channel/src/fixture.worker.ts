/**
 * A worker for the channel's tests: answers, fails with typed errors, moves buffers, crashes and exits on request.
 * Plain type-strippable TypeScript with package imports only (Node runs it from src/).
 */
import { workerData } from 'node:worker_threads';
import { EmbedderError, type ErrorCode } from '@embedder-rag/core';
// Node runs this file from src/ without a bundler, where './index' (extensionless) does not resolve: the built package.
// eslint-disable-next-line @nx/enforce-module-boundaries
import { serveChannel } from '@embedder-rag/worker-channel';

export type FixtureCalls = {
  echo: { payload: unknown; result: unknown };
  /** Echoes, with an event attached to the answer. */
  echoAttached: { payload: unknown; result: unknown };
  /** Squares each value into a new array owned by the worker and moves it to the caller. */
  square: { payload: { values: Float32Array }; result: Float32Array };
  /** Byte length of the last result square() sent: 0 once it was moved. */
  lastSentBytes: { payload: undefined; result: number };
  /** Sums an array the caller moved here. */
  sum: { payload: { values: Float32Array }; result: number };
  fail: { payload: { code: ErrorCode; message: string; details: Record<string, unknown> }; result: never };
  /** Settles only when aborted (with the abort's reason). */
  untilAborted: { payload: undefined; result: never };
  /** Never settles. */
  never: { payload: undefined; result: never };
  /** Throws outside any call (an uncaught error kills the worker). */
  crash: { payload: { message: string }; result: never };
  exit: { payload: { code: number }; result: never };
  uncloneable: { payload: undefined; result: unknown };
  /**
   * Waits until `count` such calls are waiting, then settles them all in one turn (as a model batch does); the value
   * 'uncloneable' answers with a function.
   */
  together: { payload: { count: number; value: unknown }; result: unknown };
};

export interface FixtureReady {
  pid: number;
  greeting: string;
}

export type FixtureEvent = { type: 'loading' } | { type: 'answering'; op: string };

const options = workerData as { failSetup?: boolean; exitInSetup?: number };
let lastSent: Float32Array | undefined;
const gathered: { value: unknown; settle: (value: unknown) => void }[] = [];

serveChannel<FixtureCalls, FixtureReady, FixtureEvent>((emit) => {
  emit({ type: 'loading' });
  if (options.failSetup) throw new EmbedderError('MODEL_NOT_FOUND', 'no model here', { details: { looked: ['a', 'b'] } });
  if (options.exitInSetup !== undefined) process.exit(options.exitInSetup);
  return {
    ready: { pid: process.pid, greeting: 'ready' },
    handlers: {
      echo: (payload) => {
        emit({ type: 'answering', op: 'echo' });
        return payload;
      },
      echoAttached: (payload, call) => {
        call.events.push({ type: 'answering', op: 'echoAttached' });
        return payload;
      },
      square: ({ values }, call) => {
        const squared = new Float32Array(values.length);
        for (let i = 0; i < values.length; i++) squared[i] = values[i]! * values[i]!;
        lastSent = squared;
        call.transfer.push(squared.buffer);
        return squared;
      },
      lastSentBytes: () => lastSent?.byteLength ?? -1,
      sum: ({ values }) => values.reduce((total, value) => total + value, 0),
      fail: ({ code, message, details }) => {
        throw new EmbedderError(code, message, { details });
      },
      untilAborted: (_payload, call) =>
        new Promise<never>((_resolve, reject) => {
          call.signal.addEventListener('abort', () => reject(call.signal.reason as Error), { once: true });
        }),
      never: () => new Promise<never>(() => {}),
      crash: ({ message }) => {
        setTimeout(() => {
          throw new Error(message);
        });
        return new Promise<never>(() => {});
      },
      exit: ({ code }) => process.exit(code),
      uncloneable: () => ({ callback: () => 1 }),
      together: ({ count, value }) =>
        new Promise((settle) => {
          gathered.push({ value, settle });
          if (gathered.length >= count) for (const call of gathered.splice(0)) call.settle(call.value === 'uncloneable' ? { callback: () => 1 } : call.value);
        }),
    },
  };
});
