import { EmbedderError } from './errors';
import type { Backend, BackendRegistration } from './backend';
import { noopLogger, type Logger } from './logger';

/** A registered backend's state, as {@link BackendRegistry.list} reports it. */
export interface BackendStatus {
  name: string;
  priority: number;
  status: 'not-initialised' | 'initialising' | 'ready' | 'failed';
  /** Why init failed, when it did. */
  error?: string;
}

interface Entry {
  registration: BackendRegistration;
  /** One init promise shared by every caller; a rejected one is kept so a failure is not retried. */
  ready?: Promise<Backend>;
  state: BackendStatus['status'];
  error?: string;
}

/**
 * Backends by name. An instance, not a module singleton: apps (or users) build one and register what they
 * installed. Resolution tries the preferred names in order, or every backend by priority, initialising each at
 * most once even under concurrent callers, and throws one error listing every failure when none works.
 */
export class BackendRegistry {
  readonly #entries = new Map<string, Entry>();
  readonly #logger: Logger;

  constructor(options: { logger?: Logger } = {}) {
    this.#logger = options.logger ?? noopLogger;
  }

  /** Adds a backend. Registering a name twice is an error (two copies of one backend are a packaging bug). */
  register(registration: BackendRegistration): this {
    if (this.#entries.has(registration.name)) {
      throw new EmbedderError('INVALID_CONFIG', `backend '${registration.name}' is already registered`);
    }
    this.#entries.set(registration.name, { registration, state: 'not-initialised' });
    return this;
  }

  /** Every registered backend, highest priority first. */
  list(): BackendStatus[] {
    return [...this.#entries.values()]
      .sort((a, b) => b.registration.priority - a.registration.priority)
      .map((entry) => ({
        name: entry.registration.name,
        priority: entry.registration.priority,
        status: entry.state,
        ...(entry.error === undefined ? {} : { error: entry.error }),
      }));
  }

  /**
   * Returns an initialised backend: the first of `preferred` that initialises, or (with no preference, or
   * `'auto'`) the highest-priority one that does.
   * @throws EmbedderError BACKEND_UNAVAILABLE naming each backend tried and why it failed.
   */
  async resolve(preferred?: string | readonly string[]): Promise<Backend> {
    const names = this.#candidates(preferred);
    const failures: string[] = [];
    for (const name of names) {
      const entry = this.#entries.get(name);
      if (!entry) {
        failures.push(`${name}: not registered (registered: ${[...this.#entries.keys()].join(', ') || 'none'})`);
        continue;
      }
      try {
        return await this.#init(entry);
      } catch (error) {
        failures.push(`${name}: ${entry.error ?? String(error)}`);
      }
    }
    if (names.length === 0) {
      throw new EmbedderError('BACKEND_UNAVAILABLE', 'no backend is registered');
    }
    throw new EmbedderError('BACKEND_UNAVAILABLE', `no backend could be initialised (${failures.join('; ')})`, {
      details: { failures },
    });
  }

  #candidates(preferred?: string | readonly string[]): string[] {
    const asked = (typeof preferred === 'string' ? [preferred] : [...(preferred ?? [])]).filter((name) => name !== 'auto');
    if (asked.length > 0) return asked;
    return this.list().map((status) => status.name);
  }

  #init(entry: Entry): Promise<Backend> {
    if (!entry.ready) {
      const name = entry.registration.name;
      entry.state = 'initialising';
      entry.ready = (async () => {
        const backend = await entry.registration.create();
        await backend.init();
        return backend;
      })().then(
        (backend) => {
          entry.state = 'ready';
          this.#logger.info('backend ready', { backend: name, ...backend.describe?.() });
          return backend;
        },
        (error: unknown) => {
          entry.state = 'failed';
          entry.error = error instanceof Error ? error.message : String(error);
          this.#logger.warn('backend unavailable', { backend: name, reason: entry.error });
          throw error;
        },
      );
    }
    return entry.ready;
  }
}
