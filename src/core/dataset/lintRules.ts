import type { ColumnMapping } from './columnMapping.ts';

/**
 * Every quality lint, by its stable code. Codes appear in the Problems panel and the CLI's
 * JSON, and users switch lints off by code (`dpoStudio.lint.disabled`), so never rename one.
 */
export const LINT_RULES = {
  'identical-answers': 'chosen and rejected are the same text: the pair teaches nothing',
  'near-identical-answers': 'chosen and rejected are nearly the same text (similarity above the threshold)',
  'empty-text': 'a prompt, answer or candidate is empty or only whitespace',
  'text-too-long': 'a text is longer than the configured maximum length',
  'duplicate-record': 'the same prompt, chosen and rejected appear in an earlier record',
  'contradicting-pairs': 'the same prompt prefers A over B in one record and B over A in another',
  'length-bias': 'chosen is the longer answer in most pairs, so DPO may learn that longer is better',
  'no-common-prefix': 'an implicit-prompt pair whose chosen and rejected share no prefix, so its prompt is empty',
  'duplicate-candidates': 'a candidates record lists the same answer twice',
  'too-few-candidates': 'a candidates record has fewer than two answers, so no pair can be made',
  'duplicate-key': 'a key appears twice in one object: readers keep only one of the values',
  'no-final-assistant-turn': 'an SFT conversation does not end with an assistant turn, so its last turn teaches nothing',
  'lone-surrogate': 'a text holds half of a UTF-16 surrogate pair (\\ud800 alone), which tokenizers turn into garbage',
} as const;

export function isLintCode(code: string): code is LintCode {
  return Object.hasOwn(LINT_RULES, code);
}

export type LintCode = keyof typeof LINT_RULES;

export interface LintOptions {
  /** Lint codes not to report. */
  disabled: ReadonlySet<string>;
  /** Similarity in [0, 1] from which two answers count as near-identical. */
  nearIdenticalThreshold: number;
  /** Longest text, in characters, before `text-too-long` is reported. */
  maxTextLength: number;
  /** Share of pairs with the longer answer chosen from which `length-bias` is reported. */
  lengthBiasThreshold: number;
  /** Fewer pairs than this make the length-bias share too noisy to warn about. */
  lengthBiasMinPairs: number;
  /** Which column holds which record field (data.columns, --columns); absent: the fields' own names. */
  columns?: ColumnMapping;
}

export const DEFAULT_LINT_OPTIONS: LintOptions = {
  disabled: new Set(),
  nearIdenticalThreshold: 0.9,
  maxTextLength: 20000,
  lengthBiasThreshold: 0.8,
  lengthBiasMinPairs: 20,
};

export function lintOptions(overrides: Partial<Omit<LintOptions, 'disabled'>> & { disabled?: Iterable<string> } = {}): LintOptions {
  return { ...DEFAULT_LINT_OPTIONS, ...overrides, disabled: new Set(overrides.disabled ?? []) };
}
