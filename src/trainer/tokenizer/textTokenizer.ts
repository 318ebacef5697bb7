import { Template } from '@huggingface/jinja';
import { Tokenizer } from '@huggingface/tokenizers';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChatMessage } from '../../core/dataset/types.ts';

/**
 * A model folder's tokenizer: tokenizer.json through @huggingface/tokenizers, the special
 * tokens and chat template from tokenizer_config.json, and the stop ids from
 * generation_config.json. Text is always encoded without automatic special tokens, as TRL does;
 * chat templates write BOS themselves where a model wants it.
 */

export class TokenizerLoadError extends Error {}

/** tokenizer_config.json writes special tokens as strings or as AddedToken objects. */
function tokenContent(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string') return (value as { content: string }).content;
  return undefined;
}

function readJson(path: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new TokenizerLoadError(code === 'ENOENT' ? `${path}: no such file` : `${path}: ${(error as Error).message}`);
  }
}

/** The template a folder names: tokenizer_config's chat_template (string, or the "default" of a list), else chat_template.jinja / .json. */
function findChatTemplate(dir: string | undefined, config: Record<string, unknown>): string | undefined {
  const value = config.chat_template;
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    const named = value as Array<{ name?: string; template?: string }>;
    return (named.find((t) => t.name === 'default') ?? named[0])?.template;
  }
  if (dir !== undefined) {
    if (existsSync(join(dir, 'chat_template.jinja'))) return readFileSync(join(dir, 'chat_template.jinja'), 'utf8');
    if (existsSync(join(dir, 'chat_template.json'))) {
      const template = readJson(join(dir, 'chat_template.json')).chat_template;
      if (typeof template === 'string') return template;
    }
  }
  return undefined;
}

export interface TokenizerFiles {
  tokenizerJson: Record<string, unknown>;
  tokenizerConfig?: Record<string, unknown>;
  generationConfig?: Record<string, unknown>;
  /** The model's config.json, consulted for eos/bos ids when the tokenizer files lack them. */
  modelConfig?: Record<string, unknown>;
  dir?: string;
}

export class TextTokenizer {
  private readonly tokenizer: Tokenizer;
  private readonly config: Record<string, unknown>;
  private template: Template | undefined;
  readonly chatTemplate: string | undefined;
  readonly bosToken: string | undefined;
  readonly eosToken: string | undefined;
  readonly padToken: string | undefined;
  readonly bosTokenId: number | undefined;
  readonly eosTokenId: number | undefined;
  /** Padding id: the pad token, else EOS (as TRL falls back), else 0. */
  readonly padTokenId: number;
  /** Ids that end a generation: EOS plus generation_config's eos_token_id list. */
  readonly stopTokenIds: readonly number[];
  /** Largest id + 1, added tokens included. */
  readonly vocabSize: number;

  constructor(files: TokenizerFiles) {
    this.config = files.tokenizerConfig ?? {};
    try {
      this.tokenizer = new Tokenizer(files.tokenizerJson, this.config);
    } catch (error) {
      throw new TokenizerLoadError(`cannot build the tokenizer${files.dir ? ` of ${files.dir}` : ''}: ${(error as Error).message}`);
    }
    this.chatTemplate = findChatTemplate(files.dir, this.config);
    const model = files.modelConfig ?? {};
    const generation = files.generationConfig ?? {};
    const idOf = (token: string | undefined) => (token === undefined ? undefined : this.tokenizer.token_to_id(token));
    const firstId = (value: unknown) => (typeof value === 'number' ? value : Array.isArray(value) && typeof value[0] === 'number' ? (value[0] as number) : undefined);
    this.bosToken = tokenContent(this.config.bos_token);
    this.eosToken = tokenContent(this.config.eos_token);
    this.padToken = tokenContent(this.config.pad_token);
    this.bosTokenId = idOf(this.bosToken) ?? firstId(generation.bos_token_id) ?? firstId(model.bos_token_id);
    this.eosTokenId = idOf(this.eosToken) ?? firstId(generation.eos_token_id) ?? firstId(model.eos_token_id);
    this.padTokenId = idOf(this.padToken) ?? firstId(generation.pad_token_id) ?? this.eosTokenId ?? 0;
    const stops = new Set<number>();
    if (this.eosTokenId !== undefined) stops.add(this.eosTokenId);
    const listed = generation.eos_token_id ?? model.eos_token_id;
    for (const id of Array.isArray(listed) ? listed : [listed]) if (typeof id === 'number') stops.add(id);
    this.stopTokenIds = [...stops];
    let maxId = -1;
    for (const id of this.tokenizer.get_vocab(true).values()) maxId = Math.max(maxId, id);
    this.vocabSize = maxId + 1;
  }

  /** Reads tokenizer.json, tokenizer_config.json and (when present) generation_config.json and config.json from a model folder. */
  static fromFolder(dir: string): TextTokenizer {
    const path = join(dir, 'tokenizer.json');
    if (!existsSync(path)) throw new TokenizerLoadError(`${dir} has no tokenizer.json (only fast tokenizers are supported; tokenizer.model/vocab.txt files cannot be read)`);
    const optional = (name: string) => (existsSync(join(dir, name)) ? readJson(join(dir, name)) : undefined);
    const files: TokenizerFiles = { tokenizerJson: readJson(path), dir };
    const tokenizerConfig = optional('tokenizer_config.json');
    const generationConfig = optional('generation_config.json');
    const modelConfig = optional('config.json');
    if (tokenizerConfig) files.tokenizerConfig = tokenizerConfig;
    if (generationConfig) files.generationConfig = generationConfig;
    if (modelConfig) files.modelConfig = modelConfig;
    return new TextTokenizer(files);
  }

  /** Token ids of `text`, special-token strings in it recognised, nothing added around it. */
  encode(text: string): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: false }).ids;
  }

  /**
   * Token ids of `text` with what the tokenizer's post-processor adds around it (Llama's BOS), as
   * `tokenizer(text)` in transformers: how TRL's SFTTrainer tokenizes plain-text records.
   */
  encodeWithSpecialTokens(text: string): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: true }).ids;
  }

  decode(ids: readonly number[], options: { skipSpecialTokens?: boolean } = {}): string {
    return this.tokenizer.decode([...ids], { skip_special_tokens: options.skipSpecialTokens ?? false, clean_up_tokenization_spaces: this.config.clean_up_tokenization_spaces === true });
  }

  tokenToId(token: string): number | undefined {
    return this.tokenizer.token_to_id(token);
  }

  idToToken(id: number): string | undefined {
    return this.tokenizer.id_to_token(id);
  }

  /** Renders chat turns with the model's template, as transformers' apply_chat_template(tokenize=False). */
  applyChatTemplate(messages: readonly ChatMessage[], options: { addGenerationPrompt?: boolean } = {}): string {
    if (this.chatTemplate === undefined) throw new TokenizerLoadError('this tokenizer has no chat_template, so chat messages cannot be rendered; use a model with a chat template or plain-text prompts');
    this.template ??= new Template(this.chatTemplate);
    return this.template.render({
      messages,
      add_generation_prompt: options.addGenerationPrompt ?? false,
      bos_token: this.bosToken ?? '',
      eos_token: this.eosToken ?? '',
      pad_token: this.padToken ?? '',
      unk_token: tokenContent(this.config.unk_token) ?? '',
    });
  }
}
