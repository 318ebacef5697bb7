import { isMappableField, type ColumnMapping, type MappableField } from '../core/dataset/columnMapping.ts';
import * as vscode from 'vscode';
import { lintOptions, type LintOptions } from '../core/dataset/lintRules.ts';

export const SECTION = 'dpoStudio';

export function readLintOptions(scope?: vscode.Uri): LintOptions {
  const config = vscode.workspace.getConfiguration(SECTION, scope);
  const columns = readColumnMapping(scope);
  return lintOptions({
    disabled: config.get<string[]>('lint.disabled', []),
    nearIdenticalThreshold: config.get<number>('lint.nearIdenticalThreshold', 0.9),
    maxTextLength: config.get<number>('lint.maxTextLength', 20000),
    lengthBiasThreshold: config.get<number>('lint.lengthBiasThreshold', 0.8),
    ...(columns ? { columns } : {}),
  });
}

/** The column mapping the editor applies to dataset files, JSON, JSONL and Parquet (`dpoStudio.datasets.columns`). */
export function readColumnMapping(scope?: vscode.Uri): ColumnMapping | undefined {
  const raw = vscode.workspace.getConfiguration(SECTION, scope).get<Record<string, unknown>>('datasets.columns', {});
  const mapping: Partial<Record<MappableField, string>> = {};
  for (const [field, column] of Object.entries(raw ?? {})) if (isMappableField(field) && typeof column === 'string' && column.trim()) mapping[field] = column.trim();
  return Object.keys(mapping).length ? mapping : undefined;
}

export function readValidationSettings(scope?: vscode.Uri): { debounceMs: number; maxProblems: number; include: string[]; detectByContent: boolean } {
  const config = vscode.workspace.getConfiguration(SECTION, scope);
  return {
    debounceMs: config.get<number>('validation.debounceMs', 300),
    maxProblems: config.get<number>('validation.maxProblems', 1000),
    include: config.get<string[]>('datasets.include', []),
    detectByContent: config.get<boolean>('datasets.detectByContent', true),
  };
}
