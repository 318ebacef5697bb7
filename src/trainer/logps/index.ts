// Log-probabilities of completions: the trainer's per-batch quantity and the dataset scorer.
export { batchCompletionLogps, padSequences, pairLogps, scoreSequences, type PaddedBatch, type PaddingSide, type PairLogps, type ScoredSequence } from './sequenceLogps.ts';
export { datasetLogps, tokenizeDatasetFile, tokenizeDatasetText, type RecordLogps, type SkippedRecord, type TokenizedDataset, type TokenizedRecord } from './datasetLogps.ts';
