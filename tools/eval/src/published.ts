/**
 * Published STS-B test Spearman (cosine) per model, from MTEB's results (see ../shared/data/MANIFEST.md):
 * the figure a correct fp32 implementation should reproduce.
 */
export const PUBLISHED_STSB_SPEARMAN: Readonly<Record<string, number>> = {
  'all-MiniLM-L6-v2': 0.8203247283076371,
  'bge-small-en-v1.5': 0.8586295017067542,
};
