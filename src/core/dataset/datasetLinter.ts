import type { LintOptions } from './lintRules.ts';
import { FingerprintSet, PairIndex } from './compactTables.ts';
import { pairKey } from './textHash.ts';
import type { RecordProblem, RecordSummary } from './recordAnalysis.ts';
import type { NormalizedRecord, RecordFormat } from './types.ts';

export interface DatasetStats {
  records: number;
  /** Records that passed their schema. */
  validRecords: number;
  pairs: number;
  candidateRecords: number;
  /** Candidates records with a best/worst choice or a ranking. */
  labeledCandidateRecords: number;
  formats: Partial<Record<RecordFormat, number>>;
  uniquePrompts: number;
  meanPromptLength: number;
  meanChosenLength: number;
  meanRejectedLength: number;
  /** Share of pairs (whose answers differ in length) where chosen is the longer one. */
  chosenLongerRate: number | null;
}

/** Where a record is, so dataset-level problems can name the earlier record they collide with. */
export interface RecordPlace {
  index: number;
  line: number;
  /** Where a streaming reader can find the record's bytes again. */
  byteOffset?: number;
  byteLength?: number;
}

/**
 * Confirms that an earlier record really has the current record's texts ('same') or its
 * answers the other way round ('swapped'). Records are matched by cheap keys first; only a
 * match is confirmed, against the real texts.
 */
export type PairComparer = (earlier: RecordPlace, relation: 'same' | 'swapped') => boolean;

/** A dataset-level problem about one record: the same shape as a record's own problems. */
export type CrossRecordProblem = RecordProblem;

/**
 * Accumulates what needs more than one record: duplicates, contradictions, statistics and
 * length bias. It keeps only fingerprints and running sums, never the texts, so memory stays
 * small however big the file.
 */
export class DatasetLinter {
  /** First occurrences by cheap key; more than one place only when different pairs share a key. */
  private readonly firstOfPair: PairIndex;
  private readonly prompts: FingerprintSet;
  private readonly formats: Partial<Record<RecordFormat, number>> = {};
  private records = 0;
  private validRecords = 0;
  private pairs = 0;
  private candidateRecords = 0;
  private labeledCandidateRecords = 0;
  private promptChars = 0;
  private chosenChars = 0;
  private rejectedChars = 0;
  private chosenLonger = 0;
  private lengthDiffers = 0;

  /** `expectedRecords`: a guess of the file's record count, to size the tables once. */
  constructor(
    private readonly options: LintOptions,
    expectedRecords = 0,
  ) {
    this.firstOfPair = new PairIndex(expectedRecords);
    this.prompts = new FingerprintSet(expectedRecords);
  }

  /** Counts a record; returns problems it has with records seen before it. */
  add(place: RecordPlace, summary: RecordSummary | undefined, compare: PairComparer): CrossRecordProblem[] {
    this.records++;
    this.firstOfPair.locate(place);
    if (!summary) return [];
    this.validRecords++;
    this.formats[summary.format] = (this.formats[summary.format] ?? 0) + 1;
    this.prompts.add(summary.promptKey);
    this.promptChars += summary.promptLength;
    if (summary.format === 'candidates') {
      this.candidateRecords++;
      if (summary.labeled) this.labeledCandidateRecords++;
      return [];
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

    const problems: CrossRecordProblem[] = [];
    const key = pairKey(summary.promptKey, summary.chosenKey!, summary.rejectedKey!);
    const earlier = this.firstOfPair.find(key, (place) => compare(place, 'same'));
    if (earlier) {
      if (!this.options.disabled.has('duplicate-record'))
        problems.push(crossProblem('duplicate-record', `Duplicate of record ${earlier.index + 1} (line ${earlier.line})`));
      return problems;
    }
    this.firstOfPair.add(key, place.index);
    if (summary.chosenKey !== summary.rejectedKey && !this.options.disabled.has('contradicting-pairs')) {
      const reversed = this.firstOfPair.find(pairKey(summary.promptKey, summary.rejectedKey!, summary.chosenKey!), (p) => compare(p, 'swapped'));
      if (reversed)
        problems.push(
          crossProblem('contradicting-pairs', `Contradicts record ${reversed.index + 1} (line ${reversed.line}): same prompt and answers, with chosen and rejected swapped`),
        );
    }
    return problems;
  }

  stats(): DatasetStats {
    const mean = (sum: number, n: number) => (n === 0 ? 0 : Math.round((sum / n) * 10) / 10);
    return {
      records: this.records,
      validRecords: this.validRecords,
      pairs: this.pairs,
      candidateRecords: this.candidateRecords,
      labeledCandidateRecords: this.labeledCandidateRecords,
      formats: { ...this.formats },
      uniquePrompts: this.prompts.size,
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

function crossProblem(code: string, message: string): CrossRecordProblem {
  return { severity: 'warning', code, message, pointer: '', offset: 0, length: 0 };
}

/** The format a file is in: the only one its records use, or 'mixed'. */
export function dominantFormat(stats: DatasetStats): RecordFormat | 'mixed' | null {
  const used = Object.keys(stats.formats) as RecordFormat[];
  if (used.length === 0) return null;
  return used.length === 1 ? used[0]! : 'mixed';
}

/** Whether two analysed pairs have the same texts, or the same with the answers swapped. */
export function samePairTexts(earlier: NormalizedRecord | undefined, current: NormalizedRecord | undefined, relation: 'same' | 'swapped'): boolean {
  if (earlier?.kind !== 'pair' || current?.kind !== 'pair' || earlier.promptText !== current.promptText) return false;
  return relation === 'same'
    ? earlier.chosenText === current.chosenText && earlier.rejectedText === current.rejectedText
    : earlier.chosenText === current.rejectedText && earlier.rejectedText === current.chosenText;
}
