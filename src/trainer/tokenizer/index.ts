// The tokenizer module's public face.
export { TextTokenizer, TokenizerLoadError, type TokenizerFiles } from './textTokenizer.ts';
export { tokenizePair, truncatePair, type PairTokens, type TruncationMode, type TruncationOptions } from './pairTokens.ts';
export { trainByteLevelBpe, byteLevelTokenizerJson, type TrainedBpe } from './byteLevelBpe.ts';
