import { LineCounter, parseDocument } from 'yaml';
import { buildConfig, isPlainObject } from './buildConfig.ts';
import { writeOverrides } from './overrides.ts';
import type { ConfigProblem, DatasetSource, TrainingConfig, TrainingConfigResult } from './types.ts';
import { documentLocator, positionOf } from './yamlPositions.ts';

function baseName(fileName: string): string {
  return fileName.split(/[\\/]/).pop() || fileName;
}

/**
 * Parses, validates and completes a training config written in YAML or JSON (YAML 1.2 is a
 * superset of JSON, and the parser's offsets are right for both). Every problem is located on
 * the offending key or value. `overrides` are command-line flags (see `applyOverrides`); they
 * are applied before validation, so a file may leave to a flag what it omits (`--model_name`),
 * and with overrides an empty file is a valid start.
 */
export function parseTrainingConfig(text: string, fileName: string, overrides: Record<string, string> = {}): TrainingConfigResult {
  const lineCounter = new LineCounter();
  // merge: `<<: *defaults` is how people share blocks between configs; YAML 1.2 dropped it.
  const doc = parseDocument(text, { lineCounter, merge: true, prettyErrors: false });
  const problems: ConfigProblem[] = [];
  const at = (pos: [number, number]) => positionOf(text, lineCounter, { offset: pos[0], length: Math.max(1, pos[1] - pos[0]) });
  for (const error of doc.errors) {
    const code = error.code === 'DUPLICATE_KEY' ? 'config-duplicate-key' : 'config-yaml-syntax';
    problems.push({ severity: 'error', code, message: error.message, pointer: '', ...at(error.pos) });
  }
  for (const warning of doc.warnings) {
    problems.push({ severity: 'warning', code: 'config-yaml-warning', message: warning.message, pointer: '', ...at(warning.pos) });
  }
  if (doc.errors.length > 0) return { problems };

  const hasOverrides = Object.keys(overrides).length > 0;
  const root: unknown = doc.contents === null ? (hasOverrides ? {} : null) : doc.toJS({ maxAliasCount: 100 });
  if (root === null || root === undefined) {
    const message = `${baseName(fileName)} is empty: a training config needs at least a "model" section with "name".`;
    problems.push({ severity: 'error', code: 'config-empty', message, pointer: '', line: 1, column: 1, offset: 0, length: 0 });
    return { problems };
  }
  if (!isPlainObject(root)) {
    const position = documentLocator(text, doc, lineCounter)('', 'value');
    const message = 'A training config must be a mapping of sections (model:, data:, dpo:, training:, lora:, quantization:).';
    problems.push({ severity: 'error', code: 'config-not-mapping', message, pointer: '', ...position });
    return { problems };
  }
  const { flags, issues } = writeOverrides(root, overrides);
  const result = buildConfig(root, { locate: documentLocator(text, doc, lineCounter), flags, issues });
  return { ...result, problems: [...problems, ...result.problems] };
}

const SNIFF_LIMIT = 100_000;

/**
 * A cheap guess, without parsing, at whether a YAML or JSON file is a training config: a
 * top-level `dpo` key, or both `model` and `training`. Lets the editor validate configs
 * without flagging every other YAML file in a workspace.
 */
export function isLikelyTrainingConfig(text: string): boolean {
  const head = text.length > SNIFF_LIMIT ? text.slice(0, SNIFF_LIMIT) : text;
  const keys = new Set<string>();
  if (/^\s*\{/.test(head)) {
    // JSON: depth is not tracked, a nested "dpo" key in some unrelated JSON file is rare enough.
    for (const match of head.matchAll(/"(dpo|model|training)"\s*:/g)) keys.add(match[1]);
  } else {
    for (const match of head.matchAll(/^(["']?)(dpo|model|training)\1[ \t]*:(?=\s|$)/gm)) keys.add(match[2]);
  }
  return keys.has('dpo') || (keys.has('model') && keys.has('training'));
}

/** The training data as a mix of weighted sources, whichever way `data.train_path` was written. */
export function trainSources(config: TrainingConfig): DatasetSource[] {
  const path = config.data.train_path;
  if (path === undefined) return [];
  return typeof path === 'string' ? [{ path, weight: 1 }] : path.map((source) => ({ ...source }));
}
