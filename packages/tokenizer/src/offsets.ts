/** A token with its character span in the original text (TEI's /tokenize item). */
export interface TokenSpan {
  id: number;
  text: string;
  special: boolean;
  /** UTF-16 offset of the first character. */
  start: number;
  /** UTF-16 offset after the last character. */
  stop: number;
}

const COMBINING_MARK = /\p{Mn}/u;
const WORD_BOUNDARY = /[\s\p{P}\p{S}]/u;

/**
 * Maps word pieces back to character spans of the original text. @huggingface/tokenizers returns no offsets,
 * so the text is normalised the way BERT's normaliser does (NFD, accents stripped, lower-cased), keeping for
 * each normalised character the original span it came from, and each piece (without its `##` / `▁` marker)
 * is found in order. [UNK] covers the next word.
 */
export function alignOffsets(text: string, tokens: readonly string[], ids: readonly number[]): TokenSpan[] {
  let normalized = '';
  const origin: number[] = [];
  const originEnd: number[] = [];
  for (let i = 0; i < text.length; ) {
    const codePoint = text.codePointAt(i)!;
    const width = codePoint > 0xffff ? 2 : 1;
    for (const char of String.fromCodePoint(codePoint).normalize('NFD')) {
      if (COMBINING_MARK.test(char)) continue;
      for (const lower of char.toLowerCase()) {
        for (let k = 0; k < lower.length; k++) {
          normalized += lower[k];
          origin.push(i);
          originEnd.push(i + width);
        }
      }
    }
    i += width;
  }

  const spans: TokenSpan[] = [];
  let cursor = 0;
  tokens.forEach((token, index) => {
    const id = ids[index]!;
    const piece = token.replace(/^##/, '').replace(/^\u2581/, '').toLowerCase();
    let start = cursor;
    let end = cursor;
    if (token === '[UNK]' || token === '<unk>') {
      while (start < normalized.length && /\s/u.test(normalized[start]!)) start++;
      end = start;
      while (end < normalized.length && !WORD_BOUNDARY.test(normalized[end]!)) end++;
      if (end === start && end < normalized.length) end++;
    } else if (piece !== '') {
      const found = normalized.indexOf(piece, cursor);
      if (found >= 0) {
        start = found;
        end = found + piece.length;
      }
    }
    cursor = end;
    const startOffset = start < origin.length ? origin[start]! : text.length;
    const stopOffset = end > start ? originEnd[end - 1]! : startOffset;
    spans.push({ id, text: token, special: false, start: startOffset, stop: stopOffset });
  });
  return spans;
}
