import type { DatasetStats } from './datasetLinter.ts';

/** Dataset statistics as short human lines, shared by the CLI and the VS Code output channel. */
export function formatStats(stats: DatasetStats): string[] {
  const lines: string[] = [];
  const formats = Object.entries(stats.formats).map(([format, n]) => `${format} ${n}`).join(', ');
  lines.push(`records: ${stats.records} (${stats.validRecords} valid${formats ? `: ${formats}` : ''}), unique prompts: ${stats.uniquePrompts}`);
  if (stats.pairs > 0) {
    lines.push(
      `mean length (characters): prompt ${Math.round(stats.meanPromptLength)}, chosen ${Math.round(stats.meanChosenLength)}, rejected ${Math.round(stats.meanRejectedLength)}`,
    );
    if (stats.chosenLongerRate !== null) lines.push(`chosen is the longer answer in ${Math.round(stats.chosenLongerRate * 100)}% of pairs`);
  }
  if (stats.sftRecords > 0) lines.push(`SFT records: ${stats.sftRecords}; mean length (characters): prompt ${Math.round(stats.meanPromptLength)}, completion ${Math.round(stats.meanCompletionLength)}`);
  if (stats.candidateRecords > 0) lines.push(`candidates records: ${stats.candidateRecords}, labeled: ${stats.labeledCandidateRecords}`);
  return lines;
}
