/** The special tokens and chat template of the tokenizers init-model writes (ChatML, as Qwen2 and SmolLM2 use). */

export const ENDOFTEXT = '<|endoftext|>';
export const IM_START = '<|im_start|>';
export const IM_END = '<|im_end|>';

/** In id order: 0, 1, 2. */
export const CHATML_SPECIAL_TOKENS = [ENDOFTEXT, IM_START, IM_END] as const;

export const CHATML_TEMPLATE =
  "{%- for message in messages %}{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{%- endfor %}" +
  "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";

/** tokenizer_config.json for a ChatML byte-level BPE tokenizer. */
export function chatmlTokenizerConfig(modelMaxLength: number): Record<string, unknown> {
  return {
    tokenizer_class: 'PreTrainedTokenizerFast',
    add_bos_token: false,
    add_eos_token: false,
    add_prefix_space: false,
    // Byte-level BPE decodes exactly; the "clean up" pass would rewrite " ." as ".".
    clean_up_tokenization_spaces: false,
    bos_token: ENDOFTEXT,
    eos_token: IM_END,
    pad_token: ENDOFTEXT,
    unk_token: null,
    additional_special_tokens: [IM_START, IM_END],
    model_max_length: modelMaxLength,
    chat_template: CHATML_TEMPLATE,
  };
}
