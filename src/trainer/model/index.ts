// The model module's public face: what the trainer, the CLI and generation import.
export { createCausalLM, disposeModel, param, parameterCount, type CausalLM } from './causalLM.ts';
export { forward, lmHead, logits, targetLogProbs, tokenLogProbs, type ForwardOptions, type KvCache } from './transformer.ts';
export { loadModel, readModelConfig, readGenerationConfig, weightFiles, ModelFolderError, type LoadModelOptions } from './modelFolder.ts';
export { parseModelConfig, ModelConfigError, UnsupportedArchitectureError, SUPPORTED_ARCHITECTURES, type Architecture, type ModelConfig } from './modelConfig.ts';
export { parameterSpecs, linearSpecs, type LinearSpec, type ParameterSpec } from './parameterSpecs.ts';
export { attachAdapter, createLoraAdapter, defaultLoraConfig, disposeAdapter, loraVariables, type LoraAdapter, type LoraConfig, type LoraLayer } from './lora.ts';
export { loadAdapter, saveAdapter, parseAdapterConfig, adapterConfigJson, AdapterError } from './adapterFolder.ts';
export { initModel, INIT_ARCHS, INIT_SIZES, type InitArch, type InitModelOptions, type InitSize } from './initModel.ts';
export { SafetensorsFile, SafetensorsError, writeSafetensors, type TensorToWrite, type WritableDtype } from './safetensors.ts';
export { SeededRandom, deriveSeed } from './random.ts';
