import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { EmbedderError } from '@embedder-rag/core';

/** One training or evaluation example: two texts and, for scored pairs, their similarity in [0, 1]. */
export interface TextPair {
  sentence1: string;
  sentence2: string;
  /** Similarity in [0, 1] (STS-B's 0–5 scores are divided by 5). Absent in anchor/positive files. */
  score?: number;
  /** 1-based line of the file the pair came from (for messages). */
  line: number;
}

/** Options of {@link readPairs}. */
export interface ReadPairsOptions {
  /** Every pair must carry a score (CosineSimilarityLoss, Spearman evaluation). */
  requireScore: boolean;
}

const FIRST_KEYS = ['sentence1', 'anchor', 'query', 'text1', 'sentence_a'];
const SECOND_KEYS = ['sentence2', 'positive', 'text2', 'sentence_b'];
const SCORE_KEYS = ['score', 'label', 'similarity'];
/** STS-B's own layout: genre, file, year, id, score (0–5), sentence 1, sentence 2 [, source, source]. */
const STSB_COLUMNS = { score: 4, first: 5, second: 6, minimum: 7, maxScore: 5 };

function bad(file: string, line: number, why: string): EmbedderError {
  return new EmbedderError('INVALID_INPUT', `${file}:${line}: ${why}`, { details: { file, line } });
}

function checkScore(file: string, line: number, score: number): number {
  if (!Number.isFinite(score) || score < 0 || score > 1) {
    throw bad(file, line, `score ${score} is outside [0, 1] (STS-B style 0–5 scores are read from its 7-column layout, which divides them by 5)`);
  }
  return score;
}

function checkText(file: string, line: number, text: unknown, which: string): string {
  if (typeof text !== 'string' || text.trim() === '') throw bad(file, line, `${which} is missing or empty`);
  return text;
}

function pick(record: Record<string, unknown>, keys: readonly string[]): unknown {
  for (const key of keys) if (record[key] !== undefined) return record[key];
  return undefined;
}

function fromJsonLine(file: string, line: number, text: string): TextPair {
  let record: unknown;
  try {
    record = JSON.parse(text);
  } catch (error) {
    throw bad(file, line, `not valid JSON (${(error as Error).message})`);
  }
  if (typeof record !== 'object' || record === null || Array.isArray(record)) throw bad(file, line, 'expected a JSON object');
  const fields = record as Record<string, unknown>;
  const pair: TextPair = {
    sentence1: checkText(file, line, pick(fields, FIRST_KEYS), `the first text (${FIRST_KEYS.join('/')})`),
    sentence2: checkText(file, line, pick(fields, SECOND_KEYS), `the second text (${SECOND_KEYS.join('/')})`),
    line,
  };
  const score = pick(fields, SCORE_KEYS);
  if (score !== undefined) {
    if (typeof score !== 'number') throw bad(file, line, `score ${JSON.stringify(score)} is not a number`);
    pair.score = checkScore(file, line, score);
  }
  return pair;
}

/** Splits one CSV line (RFC 4180 quoting within the line). */
function splitCsv(file: string, line: number, text: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (char === '"') quoted = false;
      else cell += char;
    } else if (char === '"' && cell === '') quoted = true;
    else if (char === ',') {
      cells.push(cell);
      cell = '';
    } else cell += char;
  }
  if (quoted) throw bad(file, line, 'unterminated quoted field');
  cells.push(cell);
  return cells;
}

function parseNumber(cell: string | undefined): number {
  return cell === undefined || cell.trim() === '' ? Number.NaN : Number(cell);
}

function fromCells(file: string, line: number, cells: string[]): TextPair {
  if (cells.length >= STSB_COLUMNS.minimum && Number.isFinite(parseNumber(cells[STSB_COLUMNS.score]))) {
    const raw = parseNumber(cells[STSB_COLUMNS.score]);
    if (raw < 0 || raw > STSB_COLUMNS.maxScore) throw bad(file, line, `STS-B score ${raw} is outside [0, 5]`);
    return {
      sentence1: checkText(file, line, cells[STSB_COLUMNS.first], 'sentence 1 (column 6)'),
      sentence2: checkText(file, line, cells[STSB_COLUMNS.second], 'sentence 2 (column 7)'),
      score: raw / STSB_COLUMNS.maxScore,
      line,
    };
  }
  if (cells.length !== 2 && cells.length !== 3) {
    throw bad(file, line, `expected 2 columns (text, text), 3 (text, text, score in [0, 1]) or STS-B's 7, got ${cells.length}`);
  }
  const pair: TextPair = { sentence1: checkText(file, line, cells[0], 'column 1'), sentence2: checkText(file, line, cells[1], 'column 2'), line };
  if (cells.length === 3) {
    const score = parseNumber(cells[2]);
    if (Number.isNaN(score)) throw bad(file, line, `score '${cells[2]}' is not a number`);
    pair.score = checkScore(file, line, score);
  }
  return pair;
}

function looksLikeHeader(cells: string[]): boolean {
  const names = new Set([...FIRST_KEYS, ...SECOND_KEYS, ...SCORE_KEYS, 'sentence 1', 'sentence 2']);
  return cells.some((cell) => names.has(cell.trim().toLowerCase()));
}

/**
 * Reads text pairs from a .jsonl (objects with sentence1/sentence2 [score], or anchor/positive), .tsv or .csv file
 * (2 or 3 columns, optional header row; tab-separated lines in a .csv are read as TSV, so STS-B's sts-*.csv files
 * with the score 0–5 in column 5 and the sentences in columns 6 and 7 are read as they are, score / 5).
 * @throws EmbedderError INVALID_INPUT naming the file and line: unreadable file, malformed line, empty text, score
 * outside its range, a missing score where one is required, or no pairs at all.
 */
export async function readPairs(file: string, options: ReadPairsOptions): Promise<TextPair[]> {
  let content: string;
  try {
    content = await readFile(file, 'utf8');
  } catch (error) {
    throw new EmbedderError('INVALID_INPUT', `cannot read ${file}: ${(error as Error).message}`, { cause: error, details: { file } });
  }
  const extension = extname(file).toLowerCase();
  const json = extension === '.jsonl' || extension === '.ndjson' || extension === '.json';
  if (!json && extension !== '.tsv' && extension !== '.csv' && extension !== '.txt') {
    throw new EmbedderError('INVALID_INPUT', `${file}: unknown pair format '${extension}' (expected .jsonl, .tsv or .csv)`, { details: { file } });
  }
  const pairs: TextPair[] = [];
  const lines = content.split(/\r?\n/);
  for (let index = 0; index < lines.length; index++) {
    const text = lines[index]!;
    const line = index + 1;
    if (text.trim() === '') continue;
    if (json) {
      pairs.push(fromJsonLine(file, line, text));
      continue;
    }
    const cells = extension === '.tsv' || text.includes('\t') ? text.split('\t') : splitCsv(file, line, text);
    if (pairs.length === 0 && looksLikeHeader(cells)) continue;
    pairs.push(fromCells(file, line, cells));
  }
  if (pairs.length === 0) throw new EmbedderError('INVALID_INPUT', `${file} holds no text pairs`, { details: { file } });
  if (options.requireScore) {
    const unscored = pairs.find((pair) => pair.score === undefined);
    if (unscored) throw bad(file, unscored.line, 'this pair has no score, and the loss or evaluation needs one (a similarity in [0, 1])');
  }
  return pairs;
}
