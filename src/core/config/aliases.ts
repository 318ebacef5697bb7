/**
 * Other names users write for a key: the Hugging Face / TRL names (dpo-zh.md writes
 * `num_train_epochs`, `per_device_train_batch_size`, `max_seq_length`, `sft_model`). The
 * schema accepts them so a pasted config validates; the loader folds them into the canonical
 * key so the rest of the code reads one name.
 */
export interface KeyAlias {
  /** Dotted path as written in the file. */
  alias: string;
  /** Dotted path of the canonical key. */
  canonical: string;
}

export const KEY_ALIASES: readonly KeyAlias[] = [
  { alias: 'model.sft_model', canonical: 'model.name' },
  { alias: 'training.num_train_epochs', canonical: 'training.num_epochs' },
  { alias: 'training.per_device_train_batch_size', canonical: 'training.batch_size' },
  { alias: 'training.max_seq_length', canonical: 'data.max_length' },
];

const CANONICAL_BY_ALIAS = new Map(KEY_ALIASES.map((a) => [a.alias, a.canonical]));

/** The canonical dotted path for a dotted path that may be an alias. */
export function canonicalPath(dotted: string): string {
  return CANONICAL_BY_ALIAS.get(dotted) ?? dotted;
}

/** Every alias of a canonical dotted path. */
export function aliasesOf(canonical: string): string[] {
  return KEY_ALIASES.filter((a) => a.canonical === canonical).map((a) => a.alias);
}
