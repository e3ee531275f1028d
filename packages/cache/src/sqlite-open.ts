import { closeSync, existsSync, mkdirSync, openSync, readSync, renameSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { EmbedderError, type Logger } from '@embedder-rag/core';

/** PRAGMA application_id of our files ('EMBC'): tells our cache apart from any other SQLite database. */
export const APPLICATION_ID = 0x454d4243;
/** PRAGMA user_version: the schema below. A file of another version is refused (CACHE_CORRUPT), never migrated blind. */
export const SCHEMA_VERSION = 1;

const SQLITE_MAGIC = 'SQLite format 3\0';
/** Address space mapped for reads (not memory used: pages are the OS's file cache). */
const MMAP_BYTES = 1 << 30;

// Entry and byte counts live in `meta`, kept by triggers inside the same transactions as the writes, so they are
// exact across processes and cost O(1) to read (count(*) is a full scan).
const SCHEMA = `
CREATE TABLE entries (
  id INTEGER PRIMARY KEY,
  key TEXT NOT NULL UNIQUE,
  vector BLOB NOT NULL,
  checksum INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  used_at INTEGER NOT NULL
);
CREATE INDEX entries_used_at ON entries (used_at);
CREATE TABLE meta (id INTEGER PRIMARY KEY CHECK (id = 0), entries INTEGER NOT NULL, bytes INTEGER NOT NULL);
INSERT INTO meta VALUES (0, 0, 0);
CREATE TRIGGER entries_insert AFTER INSERT ON entries BEGIN
  UPDATE meta SET entries = entries + 1, bytes = bytes + length(NEW.vector) + length(NEW.key) WHERE id = 0;
END;
CREATE TRIGGER entries_delete AFTER DELETE ON entries BEGIN
  UPDATE meta SET entries = entries - 1, bytes = bytes - length(OLD.vector) - length(OLD.key) WHERE id = 0;
END;
CREATE TRIGGER entries_update AFTER UPDATE OF vector ON entries BEGIN
  UPDATE meta SET bytes = bytes + length(NEW.vector) - length(OLD.vector) WHERE id = 0;
END;
PRAGMA application_id = ${APPLICATION_ID};
PRAGMA user_version = ${SCHEMA_VERSION};
`;

/** SQLite result codes that mean "this file is damaged or not a database". */
const CORRUPT_CODES = new Set([11 /* SQLITE_CORRUPT */, 26 /* SQLITE_NOTADB */]);
/** SQLITE_IOERR_SHORT_READ: the file is shorter than its own pages say (truncated or a damaged header). */
const SHORT_READ = 522;

/** True when a node:sqlite error says the file is corrupt or not a database. */
export function isCorruptSqliteError(error: unknown): boolean {
  const errcode = (error as { errcode?: unknown } | null)?.errcode;
  return typeof errcode === 'number' && (CORRUPT_CODES.has(errcode & 0xff) || errcode === SHORT_READ);
}

/** Wraps a node:sqlite error as CACHE_CORRUPT (damaged file) or CACHE_FAILED (anything else), naming the path. */
export function storeError(error: unknown, path: string, doing: string): EmbedderError {
  if (error instanceof EmbedderError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  if (isCorruptSqliteError(error)) {
    return corrupt(path, `${reason} (while ${doing})`, error);
  }
  return new EmbedderError('CACHE_FAILED', `persistent cache ${path}: ${doing} failed: ${reason}`, { cause: error, details: { path } });
}

function corrupt(path: string, reason: string, cause?: unknown): EmbedderError {
  return new EmbedderError('CACHE_CORRUPT', `persistent cache ${path} is corrupt or not an embedder cache: ${reason}`, {
    cause,
    details: { path },
  });
}

/** Options of {@link openStore}. */
export interface OpenStoreOptions {
  path: string;
  onCorrupt: 'error' | 'recreate';
  busyTimeoutMs: number;
  logger: Logger;
}

/**
 * Opens (creating if needed) the cache database at `path`, checked to be ours and intact. A corrupt or foreign
 * file throws CACHE_CORRUPT naming the path, or with onCorrupt 'recreate' is renamed to `<path>.corrupt-<time>`
 * (with its -wal and -shm files) and a fresh store is created in its place.
 */
export function openStore(options: OpenStoreOptions): DatabaseSync {
  try {
    return openVerified(options);
  } catch (error) {
    if (options.onCorrupt !== 'recreate' || !(error instanceof EmbedderError) || error.code !== 'CACHE_CORRUPT') throw error;
    const aside = `${options.path}.corrupt-${Date.now()}`;
    for (const suffix of ['', '-wal', '-shm']) {
      if (existsSync(options.path + suffix)) renameSync(options.path + suffix, aside + suffix);
    }
    options.logger.warn('persistent cache was corrupt: set aside and recreated', { path: options.path, aside, reason: error.message });
    return openVerified(options);
  }
}

function openVerified({ path, busyTimeoutMs }: OpenStoreOptions): DatabaseSync {
  checkHeader(path);
  let db: DatabaseSync;
  try {
    mkdirSync(dirname(path), { recursive: true });
    db = new DatabaseSync(path, { timeout: busyTimeoutMs });
  } catch (error) {
    throw storeError(error, path, 'opening');
  }
  try {
    // WAL: readers never block the writer, a crash leaves the last committed transaction; NORMAL syncs at
    // checkpoints only, which keeps every commit atomic across a process crash (not across power loss).
    db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;');
    // Reads through a memory map skip a pread() per page; a cold 20 MB store reads about twice as fast.
    db.exec(`PRAGMA mmap_size = ${MMAP_BYTES}; PRAGMA cache_size = -16384;`);
    if (!isOurs(db, path)) initialise(db, path);
    checkSchema(db, path);
    const check = db.prepare('PRAGMA quick_check').all() as { quick_check: string }[];
    if (check.length !== 1 || check[0]?.quick_check !== 'ok') {
      throw corrupt(path, `integrity check failed: ${check.map((row) => row.quick_check).slice(0, 3).join('; ')}`);
    }
    return db;
  } catch (error) {
    db.close();
    throw storeError(error, path, 'checking the file');
  }
}

/** Anything at `path` that is not empty must start with SQLite's magic string (cheap, before SQLite reads it). */
function checkHeader(path: string): void {
  let size: number;
  try {
    const info = statSync(path);
    if (!info.isFile()) throw new EmbedderError('CACHE_FAILED', `persistent cache ${path} is not a file`, { details: { path } });
    size = info.size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw storeError(error, path, 'reading the file');
  }
  if (size === 0) return;
  const header = Buffer.alloc(100);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, header, 0, 100, 0);
  } finally {
    closeSync(fd);
  }
  if (size < 100 || header.toString('latin1', 0, 16) !== SQLITE_MAGIC) throw corrupt(path, 'the file is not a SQLite database');
  // Header fields SQLite would otherwise report as a read-only or unsupported file rather than a damaged one
  // (sqlite.org/fileformat.html). Schema format 0 is valid: a new file whose schema is still only in the WAL.
  const versions = [header[18]!, header[19]!];
  const schemaFormat = header.readUInt32BE(44);
  if (versions.some((v) => v !== 1 && v !== 2) || schemaFormat > 4) {
    throw corrupt(path, `damaged header (file format ${versions.join('/')}, schema format ${schemaFormat})`);
  }
}

/** True for our schema; false for a new, empty database; throws CACHE_CORRUPT for anything else. */
function isOurs(db: DatabaseSync, path: string): boolean {
  const appId = (db.prepare('PRAGMA application_id').get() as { application_id: number }).application_id;
  const version = (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
  if (appId === APPLICATION_ID) {
    if (version !== SCHEMA_VERSION) throw corrupt(path, `schema version ${version}, this version reads ${SCHEMA_VERSION}`);
    return true;
  }
  const tables = (db.prepare("SELECT count(*) AS n FROM sqlite_schema").get() as { n: number }).n;
  if (appId !== 0 || tables > 0) throw corrupt(path, `a SQLite database of another application (application_id ${appId})`);
  return false;
}

let expectedSchema: string | undefined;

/** The schema text SQLite stores for {@link SCHEMA}, from a scratch in-memory database. */
function schemaOf(db: DatabaseSync): string {
  return JSON.stringify(db.prepare('SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY name').all());
}

/** A file whose stored schema differs in any byte from ours (damage, or tampering) is refused. */
function checkSchema(db: DatabaseSync, path: string): void {
  if (expectedSchema === undefined) {
    const scratch = new DatabaseSync(':memory:');
    scratch.exec(SCHEMA);
    expectedSchema = schemaOf(scratch);
    scratch.close();
  }
  if (schemaOf(db) !== expectedSchema) throw corrupt(path, 'its tables are not those of an embedder cache');
}

/** Creates the schema; IMMEDIATE takes the write lock first, so two processes creating it at once do it once. */
function initialise(db: DatabaseSync, path: string): void {
  db.exec('BEGIN IMMEDIATE');
  try {
    if (!isOurs(db, path)) db.exec(SCHEMA);
    db.exec('COMMIT');
  } catch (error) {
    db.exec('ROLLBACK');
    throw error;
  }
}
