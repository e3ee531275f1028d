/** Structured fields attached to a log line. */
export type LogFields = Record<string, unknown>;

/**
 * The logger libraries write to. Libraries never call `console`; apps pass pino (whose methods take
 * `(fields, message)`, adapted by {@link fromPino}) or any object of this shape.
 */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

const noop = (): void => {};

/** A logger that drops everything: the default of every library. */
export const noopLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };

/** The subset of pino's API that {@link fromPino} needs. */
export interface PinoLike {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** Adapts a pino logger (fields first) to {@link Logger} (message first). */
export function fromPino(pino: PinoLike): Logger {
  return {
    debug: (message, fields) => pino.debug(fields ?? {}, message),
    info: (message, fields) => pino.info(fields ?? {}, message),
    warn: (message, fields) => pino.warn(fields ?? {}, message),
    error: (message, fields) => pino.error(fields ?? {}, message),
  };
}
