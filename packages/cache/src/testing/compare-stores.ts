// `pnpm --filter @embedder-rag/cache compare-stores`: the measurement behind the README's choice of store. Puts and gets
// N vectors of 384 float32 under 64-character keys, in node:sqlite (raw, and through openPersistentCache) and in
// lmdb-js, each put its own synchronous transaction as the EmbeddingCache API needs; three interleaved rounds, best
// of each printed (the machine is shared and noisy).
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { open } from 'lmdb';
import { openPersistentCache } from '../persistent-cache';

const n = Number(process.argv[2] ?? 10_000);
const keys = Array.from({ length: n }, (_, i) => `${i}`.padStart(64, 'k'));
const vectors = keys.map((_, i) => Float32Array.from({ length: 384 }, (_, j) => Math.sin(i + j)));
const order = keys.map((_, i) => (i * 7919) % n);
const dir = mkdtempSync(join(tmpdir(), 'embedder-stores-'));

interface Store {
  put(key: string, vector: Float32Array): void;
  get(key: string): unknown;
  close(): void;
  files: string[];
}

const systems: Record<string, (path: string) => Store> = {
  'node:sqlite raw (WAL, synchronous=NORMAL, mmap)': (path) => {
    const db = new DatabaseSync(path);
    db.exec('PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA mmap_size=1073741824;');
    db.exec('CREATE TABLE IF NOT EXISTS e (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, vector BLOB NOT NULL)');
    const put = db.prepare('INSERT OR REPLACE INTO e (key, vector) VALUES (?, ?)');
    const get = db.prepare('SELECT vector FROM e WHERE key = ?');
    return {
      put: (k, v) => put.run(k, new Uint8Array(v.buffer, v.byteOffset, v.byteLength)),
      get: (k) => get.get(k),
      close: () => db.close(),
      files: [path, `${path}-wal`],
    };
  },
  'openPersistentCache (node:sqlite + checksum, bound, copy)': (path) => {
    const cache = openPersistentCache({ path, maxEntries: n });
    return { put: (k, v) => cache.set(k, v), get: (k) => cache.get(k), close: () => void cache.close(), files: [path, `${path}-wal`] };
  },
  'lmdb-js putSync, noSync (process-crash safe like WAL+NORMAL)': (path) => {
    const db = open({ path, encoding: 'binary', compression: false, noSync: true });
    return {
      put: (k, v) => db.putSync(k, Buffer.from(v.buffer, v.byteOffset, v.byteLength)),
      get: (k) => db.getBinary(k),
      close: () => void db.close(),
      files: [join(path, 'data.mdb'), join(path, 'lock.mdb')],
    };
  },
  'lmdb-js putSync, default sync': (path) => {
    const db = open({ path, encoding: 'binary', compression: false });
    return {
      put: (k, v) => db.putSync(k, Buffer.from(v.buffer, v.byteOffset, v.byteLength)),
      get: (k) => db.getBinary(k),
      close: () => void db.close(),
      files: [join(path, 'data.mdb'), join(path, 'lock.mdb')],
    };
  },
};

const best: Record<string, { put: number; get: number; mb: number }> = {};
for (let round = 0; round < 3; round++) {
  for (const [name, make] of Object.entries(systems)) {
    const path = join(dir, `${round}-${name.replace(/\W+/g, '-')}`);
    let store = make(path);
    let t = performance.now();
    keys.forEach((k, i) => store.put(k, vectors[i]!));
    const put = n / ((performance.now() - t) / 1000);
    store.close();
    store = make(path);
    t = performance.now();
    for (const i of order) if (store.get(keys[i]!) === undefined) throw new Error(`${name} lost ${keys[i]}`);
    const get = n / ((performance.now() - t) / 1000);
    store.close();
    const mb = store.files.reduce((sum, f) => sum + (statSync(f, { throwIfNoEntry: false })?.size ?? 0), 0) / 2 ** 20;
    const prev = best[name];
    best[name] = { put: Math.max(prev?.put ?? 0, put), get: Math.max(prev?.get ?? 0, get), mb };
  }
}
rmSync(dir, { recursive: true, force: true });
process.stdout.write(`${n} entries of 384 float32, best of 3 rounds, ${new Date().toISOString()}\n`);
process.stdout.write('| store | put/s | get/s (cold reopen) | disk MB |\n|---|---:|---:|---:|\n');
for (const [name, r] of Object.entries(best)) {
  process.stdout.write(`| ${name} | ${Math.round(r.put)} | ${Math.round(r.get)} | ${r.mb.toFixed(1)} |\n`);
}
