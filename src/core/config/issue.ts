import type { Severity } from '../dataset/types.ts';
import type { SpanPart } from './yamlPositions.ts';

/** A problem before it is given a position: positions depend on where the value came from. */
export interface Issue {
  severity: Severity;
  code: string;
  message: string;
  /** JSON pointer of the field concerned. */
  pointer: string;
  /** What to underline when it is not the field itself (a missing key: the mapping lacking it). */
  at?: string;
  part: SpanPart;
  /** Other keys the problem is equally about (a cross-key check): a flag that set one owns it. */
  related?: string[];
  /** Index of the override that caused it, when the pointer alone can't tell (a bad flag name). */
  flagIndex?: number;
}
