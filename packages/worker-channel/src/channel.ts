import { Worker, type Transferable } from 'node:worker_threads';
import { EmbedderError, deserializeError, serializeError } from '@embedder-rag/core';
import type { Calls, ParentMessage, WorkerMessage } from './protocol';

/** Options of {@link WorkerChannel.start}. */
export interface ChannelOptions<Event> {
  /** Names the worker in errors: `the onnxruntime worker`, `the worker of model 'x'`. */
  name: string;
  /** Handed to the worker script as `workerData` (structured clone). */
  workerData?: unknown;
  /** Node flags of the worker. Default: the parent's; `[]` keeps a test runner's loaders and conditions out. */
  execArgv?: string[];
  /** An idle worker (no call in flight) does not keep the process alive, as in-thread work would not. @default false */
  unrefWhenIdle?: boolean;
  /**
   * What the worker emits (logs, progress, counters), from its setup on, in order with answers; events a handler
   * attached to its answer (`call.events`) arrive just before that answer settles its call.
   */
  onEvent?: (event: Event) => void;
  /** An error the worker did not catch; the worker stops after it and its calls fail. For logs. */
  onError?: (error: Error) => void;
}

/** Options of one {@link WorkerChannel.call}. */
export interface CallOptions {
  /** Aborting asks the worker to cancel the call: its handler's signal fires, and its answer settles the call. */
  signal?: AbortSignal;
  /** Buffers of the payload to move to the worker instead of copying them (unusable on this side afterwards). */
  transfer?: readonly Transferable[];
}

/** The start() in progress: settled by the worker's ready or failed message, or by its exit. */
interface Starting {
  resolve(): void;
  reject(error: Error): void;
}

interface PendingCall {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/**
 * Request/response with one worker thread that runs {@link serveChannel}. Calls are typed by a {@link Calls} map;
 * answers and errors (EmbedderError codes and details included) cross intact, result buffers the worker lists are
 * moved, not copied. A worker that dies fails every call in flight, and every later one, with DISPOSED naming its
 * exit code and the error that killed it: a call never hangs on a dead worker.
 */
export class WorkerChannel<C extends Calls, Ready = unknown, Event = never> {
  readonly name: string;
  readonly #worker: Worker;
  readonly #options: ChannelOptions<Event>;
  readonly #pending = new Map<number, PendingCall>();
  #ready: Ready | undefined;
  #starting: Starting | undefined;
  #nextId = 1;
  #messages = 0;
  #closing = false;
  /** The uncaught error that stopped the worker, if one did. */
  #crash: Error | undefined;
  /** Why calls fail from now on, once the worker has stopped. */
  #stopped: EmbedderError | undefined;

  private constructor(worker: Worker, options: ChannelOptions<Event>, starting: Starting) {
    this.name = options.name;
    this.#worker = worker;
    this.#options = options;
    this.#starting = starting;
    worker.on('message', (message: WorkerMessage) => this.#receive(message));
    worker.on('error', (error: Error) => {
      this.#crash ??= error;
      options.onError?.(error);
    });
    worker.on('messageerror', (error: Error) => options.onError?.(error));
    worker.on('exit', (code: number) => this.#onExit(code));
  }

  /**
   * Starts `script` (a worker calling {@link serveChannel}) and waits until its setup is done. Rejects with the
   * setup's own error (its EmbedderError code kept), or BACKEND_UNAVAILABLE when the worker exits while starting;
   * the worker is stopped then.
   */
  static async start<C extends Calls, Ready = unknown, Event = never>(
    script: URL | string,
    options: ChannelOptions<Event>,
  ): Promise<WorkerChannel<C, Ready, Event>> {
    const worker = new Worker(script, { workerData: options.workerData, ...(options.execArgv === undefined ? {} : { execArgv: options.execArgv }) });
    let starting: Starting | undefined;
    const started = new Promise<void>((resolve, reject) => {
      starting = { resolve, reject };
    });
    const channel = new WorkerChannel<C, Ready, Event>(worker, options, starting!);
    try {
      await started;
    } catch (error) {
      await channel.close();
      throw error;
    }
    return channel;
  }

  /** What the worker's setup returned as `ready` (names, sizes, the loaded model…). */
  get ready(): Ready {
    return this.#ready as Ready;
  }

  /** False once the worker has stopped, or close() was called. */
  get alive(): boolean {
    return this.#stopped === undefined && !this.#closing;
  }

  /** Calls sent and not answered yet. */
  get inFlight(): number {
    return this.#pending.size;
  }

  /** Messages received from the worker so far (answers settled in the same turn of the worker share one). */
  get messagesReceived(): number {
    return this.#messages;
  }

  /** Runs `op` in the worker; resolves with its handler's result, rejects with its handler's error. */
  call<K extends keyof C & string>(op: K, payload: C[K]['payload'], options: CallOptions = {}): Promise<C[K]['result']> {
    if (this.#stopped !== undefined) return Promise.reject(this.#stopped);
    if (this.#closing) return Promise.reject(this.#closedError());
    const id = this.#nextId++;
    const { signal } = options;
    return new Promise<C[K]['result']>((resolve, reject) => {
      const onAbort = signal === undefined ? undefined : () => this.#abort(id, signal.reason);
      const done = onAbort === undefined ? undefined : () => signal!.removeEventListener('abort', onAbort);
      this.#pending.set(
        id,
        done === undefined
          ? { resolve: resolve as (value: unknown) => void, reject }
          : {
              resolve: (value) => {
                done();
                resolve(value as C[K]['result']);
              },
              reject: (error) => {
                done();
                reject(error);
              },
            },
      );
      if (this.#options.unrefWhenIdle) this.#worker.ref();
      try {
        this.#worker.postMessage({ kind: 'call', id, op, payload } satisfies ParentMessage, options.transfer);
      } catch (error) {
        // The payload cannot be cloned: nothing was sent.
        this.#settle(id)?.reject(error as Error);
        return;
      }
      if (onAbort !== undefined) {
        if (signal!.aborted) onAbort();
        else signal!.addEventListener('abort', onAbort, { once: true });
      }
    });
  }

  /** Stops the worker at once. Calls in flight fail with DISPOSED; safe to call twice. */
  async close(): Promise<void> {
    if (this.#stopped !== undefined) return;
    this.#closing = true;
    const code = await this.#worker.terminate();
    this.#onExit(code);
  }

  #receive(message: WorkerMessage): void {
    this.#messages++;
    this.#handle(message);
  }

  #handle(message: WorkerMessage): void {
    switch (message.kind) {
      case 'replies':
        for (const reply of message.replies) this.#handle(reply);
        return;
      case 'reply': {
        if (message.events !== undefined) for (const event of message.events) this.#options.onEvent?.(event as Event);
        const call = this.#settle(message.id);
        if (message.ok) call?.resolve(message.value);
        else call?.reject(deserializeError(message.error));
        return;
      }
      case 'event':
        this.#options.onEvent?.(message.event as Event);
        return;
      case 'ready':
        this.#ready = message.value as Ready;
        if (this.#options.unrefWhenIdle) this.#worker.unref();
        this.#starting?.resolve();
        this.#starting = undefined;
        return;
      case 'failed':
        this.#starting?.reject(deserializeError(message.error));
        this.#starting = undefined;
        return;
    }
  }

  /** Removes a call from the pending ones (letting an idle worker go when asked to) and returns it. */
  #settle(id: number): PendingCall | undefined {
    const call = this.#pending.get(id);
    this.#pending.delete(id);
    if (this.#pending.size === 0 && this.#options.unrefWhenIdle && this.#stopped === undefined) this.#worker.unref();
    return call;
  }

  #abort(id: number, reason: unknown): void {
    if (!this.#pending.has(id) || this.#stopped !== undefined) return;
    this.#worker.postMessage({ kind: 'abort', id, reason: serializeError(reason ?? new DOMException('aborted', 'AbortError')) } satisfies ParentMessage);
  }

  #closedError(): EmbedderError {
    return new EmbedderError('DISPOSED', `${this.name} was closed`);
  }

  #onExit(code: number): void {
    if (this.#stopped !== undefined) return;
    const crash = this.#crash;
    this.#stopped = this.#closing
      ? this.#closedError()
      : new EmbedderError('DISPOSED', `${this.name} has stopped (exit code ${code})${crash ? `: ${crash.message}` : ''}`, {
          ...(crash ? { cause: crash } : {}),
          details: { exitCode: code, ...(crash ? { error: crash.message } : {}) },
        });
    const starting = this.#starting;
    this.#starting = undefined;
    starting?.reject(
      crash ?? new EmbedderError('BACKEND_UNAVAILABLE', `${this.name} exited with code ${code} while loading`, { details: { exitCode: code } }),
    );
    const calls = [...this.#pending.values()];
    this.#pending.clear();
    for (const call of calls) call.reject(this.#stopped);
  }
}
