export { BatchScheduler } from './scheduler';
export { AdaptiveBudget, type AdaptiveBudgetOptions } from './adaptive-budget';
export { planBatches, batchCapacity, cheapestCuts, paddedTokens, paddingBoundedCount, sortByLength } from './plan';
export type {
  SchedulableItem,
  BatchRunEvent,
  BatchSchedulerOptions,
  SubmitOptions,
  SubmitOutcome,
  SchedulerStats,
} from './types';
export { chooseTuning, type TuningCandidate, type TuningTargets, type TuningChoice } from './tuning';
