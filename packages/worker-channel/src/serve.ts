import { parentPort, type Transferable } from 'node:worker_threads';
import { EmbedderError, deserializeError, serializeError } from '@embedder-rag/core';
import type { Calls, ParentMessage, ReplyMessage, WorkerMessage } from './protocol';

/** What a handler gets besides the payload. */
export interface CallContext<Event = never> {
  /** Fires when the caller aborts this call (its reason is the caller's, e.g. an AbortError). */
  readonly signal: AbortSignal;
  /** Buffers of the result to move to the caller instead of copying them; the handler must not touch them afterwards. */
  readonly transfer: Transferable[];
  /** Events to deliver with this call's answer, in the same message (the parent's onEvent sees them just before it settles). */
  readonly events: Event[];
}

/** One handler per call of `C`. */
export type Handlers<C extends Calls, Event = never> = {
  [K in keyof C]: (payload: C[K]['payload'], call: CallContext<Event>) => C[K]['result'] | Promise<C[K]['result']>;
};

/** What a worker's setup hands to {@link serveChannel}: the answer to the parent's start, and the handlers. */
export interface Service<C extends Calls, Ready, Event = never> {
  ready: Ready;
  handlers: Handlers<C, Event>;
}

/**
 * Serves a {@link WorkerChannel} from this worker thread. `setup` loads what the worker owns (a model, a session);
 * when it throws, the parent's start() rejects with that error and the worker ends. `emit` sends an event to the
 * parent's onEvent, in order with the answers. Calls run concurrently; a handler's error reaches the caller with
 * its EmbedderError code, and a result that cannot be cloned fails its call instead of never answering.
 */
export function serveChannel<C extends Calls, Ready = undefined, Event = never>(
  setup: (emit: (event: Event) => void) => Service<C, Ready, Event> | Promise<Service<C, Ready, Event>>,
): void {
  const port = parentPort;
  if (port === null) throw new EmbedderError('UNSUPPORTED', 'serveChannel runs in a worker thread (started by WorkerChannel.start)');
  const post = (message: WorkerMessage, transfer?: readonly Transferable[]): void => port.postMessage(message, transfer);
  const outbox = new Outbox(post);
  // Answers queued before an event leave before it: events stay in order with the answers.
  const emit = (event: Event): void => {
    outbox.flush();
    post({ kind: 'event', event });
  };

  void (async () => {
    let service: Service<C, Ready, Event>;
    try {
      service = await setup(emit);
    } catch (error) {
      post({ kind: 'failed', error: serializeError(error) });
      return;
    }
    const aborts = new Map<number, AbortController>();
    port.on('message', (message: ParentMessage) => {
      if (message.kind === 'abort') {
        aborts.get(message.id)?.abort(deserializeError(message.reason));
        return;
      }
      const controller = new AbortController();
      aborts.set(message.id, controller);
      void answer(service.handlers, message, { signal: controller.signal, transfer: [], events: [] }, outbox).finally(() => aborts.delete(message.id));
    });
    post({ kind: 'ready', value: service.ready });
  })();
}

/**
 * Answers wait here until the end of the worker's current turn, then leave in one message: the calls of one model
 * batch settle together, and every message wakes the parent thread, which on a busy machine takes the CPU from this
 * one (a model thread posting 8 answers one by one lost about 0.1 ms of inference per answer, measured with
 * node --cpu-prof under 64 concurrent clients). The flush waits for the whole turn, promise callbacks included, and
 * runs before the next macrotask (the next batch's run).
 */
class Outbox {
  readonly #post: (message: WorkerMessage, transfer?: readonly Transferable[]) => void;
  #waiting: { reply: ReplyMessage; transfer: readonly Transferable[] }[] = [];

  constructor(post: (message: WorkerMessage, transfer?: readonly Transferable[]) => void) {
    this.#post = post;
  }

  reply(reply: ReplyMessage, transfer: readonly Transferable[]): void {
    // After every promise callback of this turn (a tick queued from a microtask runs once the microtask queue is
    // empty), before the next macrotask.
    if (this.#waiting.length === 0) queueMicrotask(() => process.nextTick(() => this.flush()));
    this.#waiting.push({ reply, transfer });
  }

  /** Sends the answers waiting, if any. */
  flush(): void {
    const waiting = this.#waiting;
    if (waiting.length === 0) return;
    this.#waiting = [];
    if (waiting.length > 1) {
      try {
        this.#post(
          { kind: 'replies', replies: waiting.map((entry) => entry.reply) },
          waiting.flatMap((entry) => entry.transfer),
        );
        return;
      } catch {
        // One of them cannot be cloned (nothing was sent or moved): each alone, so only that call fails.
      }
    }
    for (const { reply, transfer } of waiting) {
      try {
        this.#post(reply, transfer);
      } catch (error) {
        // The result (or an attached event) cannot be cloned, or a listed buffer cannot move: answer with why rather
        // than not at all.
        this.#post({ kind: 'reply', id: reply.id, ok: false, error: reply.ok ? serializeError(error) : reply.error });
      }
    }
  }
}

async function answer<C extends Calls, Event>(
  handlers: Handlers<C, Event>,
  call: Extract<ParentMessage, { kind: 'call' }>,
  context: CallContext<Event>,
  outbox: Outbox,
): Promise<void> {
  let value: unknown;
  try {
    const byName = handlers as unknown as Record<string, (payload: unknown, call: CallContext<Event>) => unknown>;
    const handler = Object.hasOwn(byName, call.op) ? byName[call.op] : undefined;
    if (handler === undefined) throw new EmbedderError('UNSUPPORTED', `this worker has no call '${call.op}' (it has: ${Object.keys(handlers).join(', ')})`);
    value = await handler(call.payload, context);
  } catch (error) {
    outbox.reply({ kind: 'reply', id: call.id, ok: false, error: serializeError(error), ...withEvents(context.events) }, []);
    return;
  }
  outbox.reply({ kind: 'reply', id: call.id, ok: true, value, ...withEvents(context.events) }, context.transfer);
}

function withEvents(events: unknown[]): { events?: unknown[] } {
  return events.length === 0 ? {} : { events };
}
