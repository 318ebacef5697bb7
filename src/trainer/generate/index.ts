// Text generation with a KV cache.
export { generate, type FinishReason, type Generation, type GenerateOptions, type Prompt } from './generate.ts';
export { argmax, sampleToken, type SamplingOptions } from './sampling.ts';
