/**
 * What differs between the supported architectures, in one table: the code elsewhere asks the
 * table (or the parsed config built from it), never checks an architecture's name itself.
 */

export const SUPPORTED_ARCHITECTURES = ['LlamaForCausalLM', 'Qwen2ForCausalLM', 'Qwen3ForCausalLM', 'MistralForCausalLM', 'GPT2LMHeadModel'] as const;
export type Architecture = (typeof SUPPORTED_ARCHITECTURES)[number];
/** `llama`: pre-norm RMSNorm, RoPE, grouped-query attention, SwiGLU. `gpt2`: LayerNorm, learned positions, fused Conv1D qkv, GELU. */
export type ModelFamily = 'llama' | 'gpt2';

export interface ArchitectureTraits {
  /** config.json's `model_type`. */
  modelType: string;
  family: ModelFamily;
  /** q/k/v biases: always (Qwen2), or as `attention_bias` says (and then o_proj's too). */
  qkvBias: 'always' | 'attention_bias';
  /** RMSNorm over each head's query and key before RoPE (Qwen3's q_norm / k_norm). */
  qkNorm: boolean;
  /** How `sliding_window` is read: Mistral applies it; Qwen only with use_sliding_window, which no release sets (refused). */
  slidingWindow: 'applied' | 'refused-when-enabled' | 'none';
  /** Rotary position embeddings (else learned positions). */
  rope: boolean;
  /** PEFT's default LoRA targets for the architecture: its attention projections. */
  defaultLoraTargets: string[];
  /** Linear weights stored [in, out] (GPT-2's Conv1D): PEFT marks their adapters fan_in_fan_out. */
  conv1d: boolean;
}

const LLAMA_TARGETS = ['q_proj', 'k_proj', 'v_proj', 'o_proj'];

export const ARCHITECTURE_TRAITS: Record<Architecture, ArchitectureTraits> = {
  LlamaForCausalLM: { modelType: 'llama', family: 'llama', qkvBias: 'attention_bias', qkNorm: false, slidingWindow: 'none', rope: true, defaultLoraTargets: LLAMA_TARGETS, conv1d: false },
  Qwen2ForCausalLM: { modelType: 'qwen2', family: 'llama', qkvBias: 'always', qkNorm: false, slidingWindow: 'refused-when-enabled', rope: true, defaultLoraTargets: LLAMA_TARGETS, conv1d: false },
  Qwen3ForCausalLM: { modelType: 'qwen3', family: 'llama', qkvBias: 'attention_bias', qkNorm: true, slidingWindow: 'refused-when-enabled', rope: true, defaultLoraTargets: LLAMA_TARGETS, conv1d: false },
  MistralForCausalLM: { modelType: 'mistral', family: 'llama', qkvBias: 'attention_bias', qkNorm: false, slidingWindow: 'applied', rope: true, defaultLoraTargets: LLAMA_TARGETS, conv1d: false },
  GPT2LMHeadModel: { modelType: 'gpt2', family: 'gpt2', qkvBias: 'always', qkNorm: false, slidingWindow: 'none', rope: false, defaultLoraTargets: ['c_attn', 'attn.c_proj'], conv1d: true },
};

/** The architecture a config.json names, by `architectures[0]` or else by `model_type`. */
export function architectureOf(raw: Record<string, unknown>): string | undefined {
  const architectures = raw.architectures;
  const named = Array.isArray(architectures) ? (architectures[0] as string | undefined) : undefined;
  if (named !== undefined) return named;
  if (typeof raw.model_type !== 'string') return undefined;
  const byType = (Object.entries(ARCHITECTURE_TRAITS) as Array<[Architecture, ArchitectureTraits]>).find(([, t]) => t.modelType === raw.model_type);
  return byType ? byType[0] : `model_type ${raw.model_type}`;
}

export function isSupportedArchitecture(name: string | undefined): name is Architecture {
  return name !== undefined && (SUPPORTED_ARCHITECTURES as readonly string[]).includes(name);
}

/** PEFT's default LoRA targets for a config.json (attention projections), whatever its architecture. */
export function defaultLoraTargets(raw: Record<string, unknown>): string[] {
  const arch = architectureOf(raw);
  return isSupportedArchitecture(arch) ? ARCHITECTURE_TRAITS[arch].defaultLoraTargets : LLAMA_TARGETS;
}
