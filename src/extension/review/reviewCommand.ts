import { existsSync } from 'node:fs';
import { sha256OfFiles } from '../../core/files/fileHash.ts';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { describeMapping } from '../../core/dataset/columnMapping.ts';
import { REVIEW_ORDERS, type ReviewOrder } from '../../core/review/reviewOrder.ts';
import { readScoresFile, ScoresFileError, scoresPath, type ScoresFile } from '../../core/review/scoresFile.ts';
import { RUN_LAYOUT } from '../../core/training/engineContract.ts';
import { findScores } from '../../core/review/runReview.ts';
import { findRuns, runLabel } from '../../core/training/runDiscovery.ts';
import { openRun, runCheckpoints, type ScoredRun } from '../../core/review/scoredRun.ts';
import type { PairEditorProvider } from '../pairEditor/pairEditorProvider.ts';
import { readColumnMapping } from '../settings.ts';
import { runScoreProcess } from './scoreProcess.ts';

export const REVIEW_COMMAND = 'dpoStudio.reviewWithModel';

/** What the dashboard's "Pairs to review" passes: which run and checkpoint, and the record to open at. */
export interface ReviewTarget {
  run?: string;
  checkpoint?: string;
  index?: number;
  order?: ReviewOrder;
}

export function roots(): string[] {
  return (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
}

/** DPO runs of the workspace that have weights to score with. */
function reviewableRuns(): Array<{ run: ScoredRun; checkpoints: string[] }> {
  const out: Array<{ run: ScoredRun; checkpoints: string[] }> = [];
  for (const found of findRuns(roots())) {
    if (found.trainerState || !existsSync(join(found.dir, RUN_LAYOUT.run))) continue;
    const checkpoints = runCheckpoints(found.dir);
    if (checkpoints.length === 0) continue;
    try {
      out.push({ run: openRun(found.dir), checkpoints });
    } catch {
      // An SFT run, or a run.json of another version: nothing to review with.
    }
  }
  return out;
}

function datasetUri(given: vscode.Uri | undefined, provider: PairEditorProvider): vscode.Uri | undefined {
  if (given instanceof vscode.Uri) return given;
  const session = provider.activeSession();
  if (session) return session.document.uri;
  const editor = vscode.window.activeTextEditor;
  return editor && /\.(jsonl|json)$/i.test(editor.document.fileName) ? editor.document.uri : undefined;
}

/** `dpo-studio score` on one file of the workspace, into the run's scores folder. */
function scoreFile(extensionUri: vscode.Uri, output: vscode.OutputChannel, run: ScoredRun, checkpoint: string, file: string, out: string): Promise<boolean> {
  const columns = readColumnMapping(vscode.Uri.file(file));
  const args = ['--run', run.dir, '--checkpoint', checkpoint, '--data', file, '--out', out, ...(columns ? ['--columns', describeMapping(columns)] : [])];
  const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(file))?.uri.fsPath ?? roots()[0];
  return runScoreProcess(extensionUri, output, args, `Scoring ${vscode.workspace.asRelativePath(file)} with ${checkpoint}`, folder, (code) => (code === 0 || code === 1) && existsSync(out));
}

async function pickRun(target: ReviewTarget): Promise<{ run: ScoredRun; checkpoints: string[] } | undefined> {
  const runs = reviewableRuns();
  if (target.run) return runs.find((r) => r.run.dir === target.run);
  if (runs.length === 0) {
    void vscode.window.showInformationMessage('No trained DPO run in this workspace yet: run "DPO: Train" first, then review its data with the model.');
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    runs.map((r) => ({ label: runLabel(r.run.dir, roots()), description: `${r.run.config.dpo.loss_type}, beta ${r.run.config.dpo.beta}`, detail: `${r.run.config.model.name} · ${r.checkpoints.join(', ')}`, entry: r })),
    { title: 'Review with Model: which run', placeHolder: 'The trained run whose model scores the records' },
  );
  return picked?.entry;
}

export function registerReviewCommand(provider: PairEditorProvider, extensionUri: vscode.Uri, output: vscode.OutputChannel): vscode.Disposable {
  return vscode.commands.registerCommand(REVIEW_COMMAND, async (given?: unknown, targetArg?: unknown) => {
    const raw = (targetArg && typeof targetArg === 'object' ? targetArg : {}) as Record<string, unknown>;
    // Another extension may call the command too: only well-formed fields are taken.
    const target: ReviewTarget = {
      ...(typeof raw.run === 'string' ? { run: raw.run } : {}),
      ...(typeof raw.checkpoint === 'string' ? { checkpoint: raw.checkpoint } : {}),
      ...(Number.isSafeInteger(raw.index) && (raw.index as number) >= 0 ? { index: raw.index as number } : {}),
      ...(REVIEW_ORDERS.includes(raw.order as ReviewOrder) ? { order: raw.order as ReviewOrder } : {}),
    };
    const uri = datasetUri(given instanceof vscode.Uri ? given : undefined, provider);
    if (!uri || uri.scheme !== 'file') {
      void vscode.window.showInformationMessage('Open a .jsonl or .json dataset in the pair editor first, then run "DPO: Review with Model".');
      return;
    }
    const chosen = await pickRun(target);
    if (!chosen) return;
    let checkpoint = target.checkpoint;
    if (!checkpoint || !chosen.checkpoints.includes(checkpoint)) {
      const picked = await vscode.window.showQuickPick(
        chosen.checkpoints.map((c) => ({ label: c, description: c === 'final' ? 'the trained model at the end of the run' : '' })),
        { title: 'Review with Model: which checkpoint', placeHolder: 'The weights to score the records with' },
      );
      if (!picked) return;
      checkpoint = picked.label;
    }
    const file = uri.fsPath;
    const run = chosen.run;
    const chosenCheckpoint = checkpoint;
    const label = `${runLabel(run.dir, roots())} · ${checkpoint}`;
    const show = async (scores: ScoresFile, at: number | undefined) => {
      const order = target.order ?? 'disagrees';
      if (!provider.sessionFor(uri)) await provider.openAt(uri, at ?? 0);
      provider.sessionFor(uri)?.startReview(scores, label, order, at);
    };
    /** Scores the file as it is on disk now (saving the editor's changes first), then shows the review. */
    const scoreAndShow = async (at: number | undefined) => {
      if (!vscode.workspace.isTrusted) {
        const choice = await vscode.window.showWarningMessage('Scoring runs the trained model, so it needs a trusted workspace.', 'Manage Workspace Trust');
        if (choice) await vscode.commands.executeCommand('workbench.trust.manage');
        return;
      }
      const document = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
      if (document?.isDirty) await document.save();
      const out = scoresPath(run.dir, chosenCheckpoint, file);
      if (await scoreFile(extensionUri, output, run, chosenCheckpoint, file, out)) await show(readScoresFile(out), at);
    };
    const found = findScores(run.dir, checkpoint, file, roots());
    if (!found) return scoreAndShow(target.index);
    let scores: ScoresFile;
    try {
      scores = readScoresFile(found);
    } catch (error) {
      if (!(error instanceof ScoresFileError)) throw error;
      output.appendLine(`Review with Model: ${error.message}`);
      return scoreAndShow(target.index);
    }
    await show(scores, target.index);
    // Scores of an older version of the file still hold for every record that did not change
    // (the others show as stale): shown at once, with the offer to score again.
    if (scores.header.data_sha256 !== (await sha256OfFiles([file])) && vscode.workspace.isTrusted) {
      void vscode.window.showInformationMessage(`${vscode.workspace.asRelativePath(uri)} changed since ${checkpoint} scored it: changed records show as stale.`, 'Score Again').then((choice) => {
        if (choice) void scoreAndShow(undefined);
      });
    }
  });
}
