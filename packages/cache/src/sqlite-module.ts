import type * as Sqlite from 'node:sqlite';

/**
 * node:sqlite, loaded without its ExperimentalWarning: Node 22.13–23.x print "SQLite is an experimental feature"
 * to stderr the moment the module loads, on every CLI run, though the cache is tested against this very API. A static
 * import loads builtins before any code runs, so the module is fetched with process.getBuiltinModule while that one
 * warning (and no other) is filtered out.
 */
function loadSqlite(): typeof Sqlite {
  const emitWarning = process.emitWarning;
  process.emitWarning = function filtered(this: NodeJS.Process, warning: string | Error, ...rest: unknown[]): void {
    const text = typeof warning === 'string' ? warning : warning.message;
    if (/^SQLite is an experimental feature/.test(text)) return;
    (emitWarning as (...args: unknown[]) => void).call(this, warning, ...rest);
  } as typeof process.emitWarning;
  try {
    return process.getBuiltinModule('node:sqlite');
  } finally {
    process.emitWarning = emitWarning;
  }
}

const sqlite = loadSqlite();
export const DatabaseSync = sqlite.DatabaseSync;
export type DatabaseSync = Sqlite.DatabaseSync;
