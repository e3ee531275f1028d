import { describe, expect, it } from 'vitest';
import { isEmbedderError } from '@embedder-rag/core';
import { loadMiniLmReference, loadTinyBertReference, modelDir } from '@embedder-rag/test-fixtures';
import { loadTokenizer } from './tokenizer';

const miniLm = await loadTokenizer(modelDir('all-MiniLM-L6-v2'), { maxSeqLength: 256 });
const reference = loadMiniLmReference();

describe('TextTokenizer on all-MiniLM-L6-v2', () => {
  it('matches the Rust tokenizers token count and truncated flag on every reference text', () => {
    expect(reference).toHaveLength(230);
    const mismatches = reference.filter((row) => {
      const encoding = miniLm.encode(row.text);
      return encoding.ids.length !== row.tokens || encoding.truncated !== row.truncated;
    });
    expect(mismatches.map((row) => row.id)).toEqual([]);
  });

  it('gives the exact ids of the reference (tiny-bert shares the vocab), truncating at 128 there', async () => {
    const tiny = await loadTokenizer(modelDir('test-fixtures/tiny-bert'), { maxSeqLength: 128 });
    for (const row of loadTinyBertReference()) {
      expect(Array.from(tiny.encode(row.text).ids)).toEqual(row.input_ids);
    }
  });

  it('truncates at maxSeqLength from the right, keeping [CLS] and [SEP], and from the left on request', () => {
    const long = reference.find((row) => row.truncated)!;
    const right = miniLm.encode(long.text, 'right');
    const left = miniLm.encode(long.text, 'left');
    expect(right.ids.length).toBe(256);
    expect(right.fullLength).toBeGreaterThan(256);
    expect([right.ids[0], right.ids[255]]).toEqual([101, 102]);
    expect([left.ids[0], left.ids[255]]).toEqual([101, 102]);
    expect(Array.from(left.ids.slice(1, 10))).not.toEqual(Array.from(right.ids.slice(1, 10)));
  });

  it('pads a batch only to its longest text, with int64 ids, mask and token types', () => {
    const { batch, tokenCounts } = miniLm.encodeBatch(['hello world', 'a much longer sentence than the first one']);
    expect(batch.sequenceLength).toBe(Math.max(...tokenCounts));
    expect(batch.inputIds).toBeInstanceOf(BigInt64Array);
    expect(batch.inputIds.length).toBe(2 * batch.sequenceLength);
    const maskRow0 = Array.from(batch.attentionMask.slice(0, batch.sequenceLength), Number);
    expect(maskRow0.reduce((a, b) => a + b, 0)).toBe(tokenCounts[0]);
    expect(Number(batch.inputIds[tokenCounts[0]!])).toBe(0);
    expect(batch.tokenTypeIds.every((v) => v === 0n)).toBe(true);
  });

  it('gives character offsets that point at the token text, accents and case included', () => {
    const text = 'Héllo  WORLD, naïve café!';
    const spans = miniLm.tokenize(text);
    expect(spans[0]).toMatchObject({ text: '[CLS]', special: true });
    expect(spans.at(-1)).toMatchObject({ text: '[SEP]', special: true });
    const words = spans.filter((s) => !s.special).map((s) => text.slice(s.start, s.stop));
    expect(words.join(' ')).toBe('Héllo WORLD , naïve café !');
  });

  it('decodes ids and rejects ids outside the vocabulary', () => {
    expect(miniLm.decode([101, 7592, 2088, 102])).toBe('hello world');
    expect(miniLm.decode([101, 7592, 102], { skipSpecialTokens: false })).toBe('[CLS] hello [SEP]');
    expect(() => miniLm.decode([99_999_999])).toThrowError(/not in the vocabulary/);
  });

  it('rejects a non-string and a folder without tokenizer.json with typed errors', async () => {
    expect(() => miniLm.encode(42 as unknown as string)).toThrowError(/expected a string/);
    const error = await loadTokenizer(modelDir('test-fixtures/vespa-dummy-transformer'), { maxSeqLength: 16 }).catch((e: unknown) => e);
    expect(isEmbedderError(error, 'MODEL_INVALID')).toBe(true);
    expect((error as Error).message).toMatch(/tokenizer\.json/);
  });
});

describe('TextTokenizer on the other families (Unigram / SentencePiece, RoBERTa-style post-processors)', () => {
  it('takes the pad id from the tokenizer: <pad> 0 for T5, 1 for XLM-R and MPNet', async () => {
    const pads = await Promise.all(
      [['tiny-sentence-t5', 256], ['tiny-xlm-roberta', 512], ['tiny-mpnet', 384]].map(async ([name, length]) => (await loadTokenizer(modelDir(`test-fixtures/${name}`), { maxSeqLength: length as number })).padId),
    );
    expect(pads).toEqual([0, 1, 1]);
  });

  it('keeps a ZWJ emoji sequence one word, as the real Precompiled charsmap does (one <unk>)', async () => {
    const xlmr = await loadTokenizer(modelDir('test-fixtures/tiny-xlm-roberta'), { maxSeqLength: 512 });
    expect(Array.from(xlmr.encode('👨‍👩‍👧‍👦 family').ids)).toEqual([0, 5, 3, 1219, 2]);
  });

  it('truncates keeping the closing special token (</s> for T5, which has no opening one)', async () => {
    const t5 = await loadTokenizer(modelDir('test-fixtures/tiny-sentence-t5'), { maxSeqLength: 8 });
    const encoding = t5.encode('word '.repeat(50));
    expect(encoding.ids.length).toBe(8);
    expect(encoding.ids[7]).toBe(1);
    expect(encoding.truncated).toBe(true);
  });

  it('counts prompt tokens as sentence-transformers does and masks them for pooling in collate', async () => {
    const xlmr = await loadTokenizer(modelDir('test-fixtures/tiny-xlm-roberta'), { maxSeqLength: 512 });
    const promptLength = xlmr.promptLength('query: ');
    expect(promptLength).toBe(xlmr.encode('query: ').ids.length - 1);
    const withPrompt = { ...xlmr.encode('query: hello'), poolingStart: promptLength };
    const plain = xlmr.encode('hello world and more');
    const batch = xlmr.collate([withPrompt, plain]);
    const L = batch.sequenceLength;
    expect(Array.from(batch.poolingMask!.subarray(0, L))).toEqual(Array.from(batch.attentionMask.subarray(0, L), (value, t) => (t < promptLength ? 0n : value)));
    expect(Array.from(batch.poolingMask!.subarray(L))).toEqual(Array.from(batch.attentionMask.subarray(L)));
    expect(xlmr.collate([plain]).poolingMask).toBeUndefined();
  });
});
