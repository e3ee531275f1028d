export {
  TextTokenizer,
  loadTokenizer,
  type TokenizerOptions,
  type TextEncoding,
  type EncodedBatch,
  type TruncationDirection,
} from './tokenizer';
export { alignOffsets, type TokenSpan } from './offsets';
