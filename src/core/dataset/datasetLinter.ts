import type { LintOptions } from './lintRules.ts';
import { countDistinct, Float64Log, Int32Log, sortByKey } from './compactTables.ts';
import { pairKey } from './textHash.ts';
import type { RecordProblem, RecordSummary } from './recordAnalysis.ts';
import { isSftFormat, stageOfFormat, type DatasetStage, type NormalizedRecord, type RecordFormat } from './types.ts';

export interface DatasetStats {
  records: number;
  /** Records that passed their schema. */
  validRecords: number;
  pairs: number;
  candidateRecords: number;
  /** Candidates records with a best/worst choice or a ranking. */
  labeledCandidateRecords: number;
  /** Supervised fine-tuning records (any SFT format). */
  sftRecords: number;
  meanCompletionLength: number;
  formats: Partial<Record<RecordFormat, number>>;
  uniquePrompts: number;
  meanPromptLength: number;
  meanChosenLength: number;
  meanRejectedLength: number;
  /** Share of pairs (whose answers differ in length) where chosen is the longer one. */
  chosenLongerRate: number | null;
}

/**
 * Confirms that two records (by index, the earlier first) really have the same texts ('same')
 * or the same with the answers the other way round ('swapped'). Records are matched by cheap
 * keys first; only a match is confirmed, against the real texts.
 */
export type PairComparer = (earlier: number, later: number, relation: 'same' | 'swapped') => boolean;

/** A record that repeats or contradicts an earlier one. */
export interface CrossRecordFinding {
  code: 'duplicate-record' | 'contradicting-pairs';
  index: number;
  earlier: number;
}

/**
 * Accumulates what needs more than one record: duplicates, contradictions, statistics and
 * length bias. It keeps only fingerprints and running sums, never the texts, so memory stays
 * small however big the file: a few numbers per record, appended in order (compactTables.ts),
 * and the records that share a key are found once at the end, by sorting.
 */
export class DatasetLinter {
  private readonly promptKeys = new Float64Log();
  /** Per pair record, in order: its index, its key, and the key of its swapped pair (-1: answers identical). */
  private readonly pairIndexes = new Int32Log();
  private readonly pairKeys = new Int32Log();
  private readonly swappedKeys = new Int32Log();
  private distinctPrompts: number | undefined;
  private sortedPairs: ReturnType<DatasetLinter['collisions']> | undefined;
  private readonly formats: Partial<Record<RecordFormat, number>> = {};
  private records = 0;
  private validRecords = 0;
  private pairs = 0;
  private candidateRecords = 0;
  private labeledCandidateRecords = 0;
  private sftRecords = 0;
  private completionChars = 0;
  private promptChars = 0;
  private chosenChars = 0;
  private rejectedChars = 0;
  private chosenLonger = 0;
  private lengthDiffers = 0;

  constructor(private readonly options: LintOptions) {}

  /** Counts record `index` (records come in order). */
  add(index: number, summary: RecordSummary | undefined): void {
    if (this.distinctPrompts !== undefined || this.sortedPairs) throw new Error('DatasetLinter.add after its statistics were taken');
    this.records++;
    if (!summary) return;
    this.validRecords++;
    this.formats[summary.format] = (this.formats[summary.format] ?? 0) + 1;
    this.promptKeys.push(summary.promptKey);
    this.promptChars += summary.promptLength;
    if (summary.format === 'candidates') {
      this.candidateRecords++;
      if (summary.labeled) this.labeledCandidateRecords++;
      return;
    }
    if (isSftFormat(summary.format)) {
      // Duplicates are found by the same keys as pairs': an SFT record is its prompt and completion.
      this.sftRecords++;
      this.completionChars += summary.completionLength!;
      this.pairIndexes.push(index);
      this.pairKeys.push(pairKey(summary.promptKey, summary.chosenKey!, summary.chosenKey!));
      this.swappedKeys.push(-1);
      return;
    }
    this.pairs++;
    const chosenLength = summary.chosenLength!;
    const rejectedLength = summary.rejectedLength!;
    this.chosenChars += chosenLength;
    this.rejectedChars += rejectedLength;
    if (chosenLength !== rejectedLength) {
      this.lengthDiffers++;
      if (chosenLength > rejectedLength) this.chosenLonger++;
    }
    this.pairIndexes.push(index);
    this.pairKeys.push(pairKey(summary.promptKey, summary.chosenKey!, summary.rejectedKey!));
    this.swappedKeys.push(summary.chosenKey !== summary.rejectedKey ? pairKey(summary.promptKey, summary.rejectedKey!, summary.chosenKey!) : -1);
  }

  /**
   * The pair records sorted by their key, and those with a swapped key sorted by it: computed
   * once (the logs are consumed), for `crossRecordCandidates` and `crossRecordFindings` alike.
   */
  private collisions(): { indexes: Int32Array; byKey: { keys: Int32Array; values: Int32Array }; bySwapped: { keys: Int32Array; values: Int32Array } } {
    if (this.sortedPairs) return this.sortedPairs;
    const n = this.pairKeys.length;
    const indexes = this.pairIndexes.drain();
    const positions = new Int32Array(n);
    for (let i = 0; i < n; i++) positions[i] = i;
    const byKey = sortByKey(this.pairKeys.drain(), positions);
    const swapped = this.swappedKeys.drain();
    const swappedPositions = new Int32Array(n);
    let m = 0;
    for (let i = 0; i < n; i++) {
      if (swapped[i] === -1) continue;
      swapped[m] = swapped[i]!;
      swappedPositions[m++] = i;
    }
    const bySwapped = sortByKey(swapped.subarray(0, m), swappedPositions.subarray(0, m));
    this.sortedPairs = { indexes, byKey, bySwapped };
    return this.sortedPairs;
  }

  /**
   * The records `crossRecordFindings` may ask `compare` about: those whose pair key another
   * record shares, or whose swapped key is another record's pair key. A reader that cannot fetch
   * records synchronously (Parquet) reads what it needs of these first.
   */
  crossRecordCandidates(): number[] {
    const { indexes, byKey, bySwapped } = this.collisions();
    const keys = byKey.keys;
    const n = keys.length;
    const out = new Set<number>();
    for (let i = 0; i < n; i++) {
      if ((i > 0 && keys[i - 1] === keys[i]) || (i + 1 < n && keys[i + 1] === keys[i])) out.add(indexes[byKey.values[i]!]!);
    }
    // Swapped keys that are some record's pair key: a merge of the two sorted lists.
    let p = 0;
    for (let s = 0; s < bySwapped.keys.length; s++) {
      const key = bySwapped.keys[s]!;
      while (p < n && keys[p]! < key) p++;
      if (p >= n || keys[p] !== key) continue;
      out.add(indexes[bySwapped.values[s]!]!);
      for (let g = p; g < n && keys[g] === key; g++) out.add(indexes[byKey.values[g]!]!);
    }
    return [...out].sort((a, b) => a - b);
  }

  /**
   * Duplicates (a record with the texts of an earlier one) and contradictions (the texts of an
   * earlier record with chosen and rejected swapped; a duplicate is not checked for those), each
   * naming the first earlier record that confirms it, in record order.
   */
  crossRecordFindings(compare: PairComparer): CrossRecordFinding[] {
    // Called once, at the end: the logs are consumed (statistics are counted before they are).
    this.uniquePrompts();
    const { indexes, byKey, bySwapped } = this.collisions();
    const n = indexes.length;
    if (n < 2) return [];
    const indexOf = (position: number) => indexes[position]!;
    const findings: CrossRecordFinding[] = [];
    const duplicate = new Set<number>();
    for (let start = 0; start < n; ) {
      let end = start + 1;
      while (end < n && byKey.keys[end] === byKey.keys[start]) end++;
      const firsts: number[] = [];
      for (let g = start; g < end && end - start > 1; g++) {
        const position = byKey.values[g]!;
        const earlier = firsts.find((f) => compare(indexOf(f), indexOf(position), 'same'));
        if (earlier === undefined) firsts.push(position);
        else {
          duplicate.add(position);
          findings.push({ code: 'duplicate-record', index: indexOf(position), earlier: indexOf(earlier) });
        }
      }
      start = end;
    }
    // Each record's swapped key against the keys of the records before it, by a merge of the two sorted lists.
    let p = 0;
    for (let s = 0; s < bySwapped.keys.length; ) {
      const key = bySwapped.keys[s]!;
      let sEnd = s + 1;
      while (sEnd < bySwapped.keys.length && bySwapped.keys[sEnd] === key) sEnd++;
      while (p < n && byKey.keys[p]! < key) p++;
      let pEnd = p;
      while (pEnd < n && byKey.keys[pEnd] === key) pEnd++;
      if (pEnd > p) {
        const firsts: number[] = [];
        for (let g = p; g < pEnd; g++) if (!duplicate.has(byKey.values[g]!)) firsts.push(byKey.values[g]!);
        for (let t = s; t < sEnd; t++) {
          const position = bySwapped.values[t]!;
          if (duplicate.has(position)) continue;
          const earlier = firsts.find((f) => f < position && compare(indexOf(f), indexOf(position), 'swapped'));
          if (earlier !== undefined) findings.push({ code: 'contradicting-pairs', index: indexOf(position), earlier: indexOf(earlier) });
        }
      }
      s = sEnd;
    }
    return findings.filter((f) => !this.options.disabled.has(f.code)).sort((a, b) => a.index - b.index);
  }

  private uniquePrompts(): number {
    this.distinctPrompts ??= countDistinct(this.promptKeys.drain());
    return this.distinctPrompts;
  }

  stats(): DatasetStats {
    const mean = (sum: number, n: number) => (n === 0 ? 0 : Math.round((sum / n) * 10) / 10);
    return {
      records: this.records,
      validRecords: this.validRecords,
      pairs: this.pairs,
      candidateRecords: this.candidateRecords,
      labeledCandidateRecords: this.labeledCandidateRecords,
      sftRecords: this.sftRecords,
      meanCompletionLength: mean(this.completionChars, this.sftRecords),
      formats: { ...this.formats },
      uniquePrompts: this.uniquePrompts(),
      meanPromptLength: mean(this.promptChars, this.validRecords),
      meanChosenLength: mean(this.chosenChars, this.pairs),
      meanRejectedLength: mean(this.rejectedChars, this.pairs),
      chosenLongerRate: this.lengthDiffers === 0 ? null : Math.round((this.chosenLonger / this.lengthDiffers) * 1000) / 1000,
    };
  }

  /** Problems of the dataset as a whole, known only once every record was seen. */
  datasetProblems(): Array<Omit<RecordProblem, 'offset' | 'length'>> {
    const stats = this.stats();
    const problems: Array<Omit<RecordProblem, 'offset' | 'length'>> = [];
    if (
      !this.options.disabled.has('length-bias') &&
      stats.chosenLongerRate !== null &&
      this.lengthDiffers >= this.options.lengthBiasMinPairs &&
      stats.chosenLongerRate >= this.options.lengthBiasThreshold
    ) {
      problems.push({
        severity: 'warning',
        code: 'length-bias',
        pointer: '',
        message:
          `Length bias: chosen is the longer answer in ${Math.round(stats.chosenLongerRate * 100)}% of ${this.lengthDiffers} pairs ` +
          `(mean ${Math.round(stats.meanChosenLength)} vs ${Math.round(stats.meanRejectedLength)} characters). ` +
          'DPO may learn that longer is better: add pairs where the better answer is shorter, or use length-normalised DPO or SimPO.',
      });
    }
    return problems;
  }
}

/** The format a file is in: the only one its records use, or 'mixed'. */
export function dominantFormat(stats: DatasetStats): RecordFormat | 'mixed' | null {
  const used = Object.keys(stats.formats) as RecordFormat[];
  if (used.length === 0) return null;
  return used.length === 1 ? used[0]! : 'mixed';
}

/** The stage a file's records are for: the only one they serve, or 'mixed' (a DPO file with a stray SFT record). */
export function datasetStage(stats: DatasetStats): DatasetStage | 'mixed' | null {
  const stages = new Set((Object.keys(stats.formats) as RecordFormat[]).map(stageOfFormat));
  if (stages.size === 0) return null;
  return stages.size === 1 ? [...stages][0]! : 'mixed';
}

/** Whether two analysed pairs have the same texts, or the same with the answers swapped (SFT records: the same prompt and completion). */
export function samePairTexts(earlier: NormalizedRecord | undefined, current: NormalizedRecord | undefined, relation: 'same' | 'swapped'): boolean {
  if (earlier?.kind === 'sft' && current?.kind === 'sft')
    return relation === 'same' && earlier.promptText === current.promptText && earlier.completionText === current.completionText && sameTurns(earlier, current);
  if (earlier?.kind !== 'pair' || current?.kind !== 'pair' || earlier.promptText !== current.promptText) return false;
  return relation === 'same'
    ? earlier.chosenText === current.chosenText && earlier.rejectedText === current.rejectedText
    : earlier.chosenText === current.rejectedText && earlier.rejectedText === current.chosenText;
}

function sameTurns(a: { messages?: Array<{ role: string; content: string }> }, b: { messages?: Array<{ role: string; content: string }> }): boolean {
  if (!a.messages || !b.messages) return a.messages === b.messages;
  return a.messages.length === b.messages.length && a.messages.every((m, i) => m.role === b.messages![i]!.role && m.content === b.messages![i]!.content);
}
