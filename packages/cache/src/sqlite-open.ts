import { closeSync, existsSync, mkdirSync, openSync, readSync, renameSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from './sqlite-module';
import { EmbedderError, type Logger } from '@embedder-rag/core';

/** PRAGMA application_id of our files ('EMBC'): tells our cache apart from any other SQLite database. */
export const APPLICATION_ID = 0x454d4243;
const SQLITE_MAGIC = 'SQLite format 3\0';
/** Address space mapped for reads (not memory used: pages are the OS's file cache). */
const MMAP_BYTES = 1 << 30;

/** PRAGMA user_version: the number of {@link MIGRATIONS} applied. A newer file is refused (CACHE_CORRUPT). */
export const SCHEMA_VERSION = 2;

/**
 * The schema, as steps: step i takes a file from version i to i+1. A new file runs them all and an older file of ours
 * runs the rest, so both end with the same schema text (checked byte for byte on open). Never edit a step: add one.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: entries, and their count and bytes in `meta`, kept by triggers inside the same transactions as the writes, so
  // they are exact across processes and cost O(1) to read (count(*) is a scan).
  `
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
`,
  // 2: eviction follows a sequence number given at each write and recorded use (max + 1, writers serialised by
  // SQLite's lock), not the wall clock: a clock stepped back would have made the newest entries the first to go.
  // Existing rows keep their order (used_at, id). used_at stays: it spaces recorded uses (recencyResolutionMs).
  `
ALTER TABLE entries ADD COLUMN used_seq INTEGER NOT NULL DEFAULT 0;
UPDATE entries SET used_seq = ranked.seq
  FROM (SELECT id, row_number() OVER (ORDER BY used_at, id) AS seq FROM entries) AS ranked
  WHERE entries.id = ranked.id;
DROP INDEX entries_used_at;
CREATE INDEX entries_used_seq ON entries (used_seq);
`,
];

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

function openVerified({ path, busyTimeoutMs, logger }: OpenStoreOptions): DatabaseSync {
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
    if (versionOf(db, path) < SCHEMA_VERSION) {
      immediately(db, () => {
        const version = versionOf(db, path);
        if (version > 0) checkSchemaOf(db, path, version); // migrate only a file whose schema is exactly ours
        migrate(db, version);
      });
    }
    checkSchemaOf(db, path, SCHEMA_VERSION);
    const check = db.prepare('PRAGMA quick_check').all() as { quick_check: string }[];
    if (check.length !== 1 || check[0]?.quick_check !== 'ok') {
      throw corrupt(path, `integrity check failed: ${check.map((row) => row.quick_check).slice(0, 3).join('; ')}`);
    }
    checkCounters(db, path, logger);
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

/**
 * The schema version of our file (0: a new, empty database, nothing applied yet); throws CACHE_CORRUPT for a foreign
 * database or a version newer than {@link SCHEMA_VERSION}.
 */
function versionOf(db: DatabaseSync, path: string): number {
  const appId = (db.prepare('PRAGMA application_id').get() as { application_id: number }).application_id;
  const version = (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
  if (appId === APPLICATION_ID) {
    if (version < 1 || version > SCHEMA_VERSION) throw corrupt(path, `schema version ${version}, this version reads 1 to ${SCHEMA_VERSION}`);
    return version;
  }
  const tables = (db.prepare("SELECT count(*) AS n FROM sqlite_schema").get() as { n: number }).n;
  if (appId !== 0 || tables > 0) throw corrupt(path, `a SQLite database of another application (application_id ${appId})`);
  return 0;
}

/** Runs the migration steps after `from` and sets the version (inside the caller's transaction). */
function migrate(db: DatabaseSync, from: number): void {
  for (const step of MIGRATIONS.slice(from)) db.exec(step);
  db.exec(`PRAGMA application_id = ${APPLICATION_ID}; PRAGMA user_version = ${SCHEMA_VERSION};`);
}

/** The schema text SQLite stores after each version's steps, from scratch in-memory databases. */
const expectedSchemas = new Map<number, string>();

function schemaOf(db: DatabaseSync): string {
  return JSON.stringify(db.prepare('SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY name').all());
}

/** A file whose stored schema differs in any byte from ours at `version` (damage, or tampering) is refused. */
function checkSchemaOf(db: DatabaseSync, path: string, version: number): void {
  let expected = expectedSchemas.get(version);
  if (expected === undefined) {
    const scratch = new DatabaseSync(':memory:');
    for (const step of MIGRATIONS.slice(0, version)) scratch.exec(step);
    expected = schemaOf(scratch);
    scratch.close();
    expectedSchemas.set(version, expected);
  }
  if (schemaOf(db) !== expected) throw corrupt(path, 'its tables are not those of an embedder cache');
}

/** Runs `work` in an IMMEDIATE transaction: the write lock first, so two processes opening at once do it once. */
function immediately(db: DatabaseSync, work: () => void): void {
  db.exec('BEGIN IMMEDIATE');
  try {
    work();
    db.exec('COMMIT');
  } catch (error) {
    db.exec('ROLLBACK');
    throw error;
  }
}

/**
 * The `meta` counts must equal the rows: eviction trusts them, and a count above the truth would evict that many
 * entries too many. Triggers keep them exact, so a difference means damage or tampering; they are derived data,
 * so they are recomputed (in a write transaction, against concurrent writers) and the repair is logged.
 */
function checkCounters(db: DatabaseSync, path: string, logger: Logger): void {
  const counted = () => (db.prepare('SELECT count(*) AS n FROM entries').get() as { n: number }).n;
  const meta = () => db.prepare('SELECT entries FROM meta WHERE id = 0').get() as { entries: number } | undefined;
  if (meta()?.entries === counted()) return;
  immediately(db, () => {
    const recorded = meta()?.entries;
    const rows = counted();
    if (recorded === rows) return;
    db.exec(`INSERT OR REPLACE INTO meta (id, entries, bytes)
      SELECT 0, count(*), coalesce(sum(length(vector) + length(key)), 0) FROM entries`);
    logger.warn('persistent cache counters did not match its rows: recomputed', { path, recorded: recorded ?? null, rows });
  });
}
