import * as vscode from 'vscode';
import { DPO_TASK_TYPE } from '../../core/training/taskDefinition.ts';
import { DASHBOARD_VIEW_TYPE, TrainingDashboard } from './dashboardPanel.ts';
import { RunRegistry } from './runRegistry.ts';
import { DpoTaskProvider } from './taskProvider.ts';
import { TrainCommands } from './trainCommands.ts';
import { TrainingSessions } from './trainingSessions.ts';
import { TrainingStatusBar } from './trainingStatusBar.ts';
import { runTrlSetup, SET_UP_TRL_COMMAND } from './trlEnvironment.ts';
import { registerHubCommands } from '../hub/hubCommands.ts';

let active: TrainingSessions | undefined;

/**
 * Training in VS Code: the `dpo` task type, the Train / Resume / Stop / Show Dashboard
 * commands, the dashboard (restored after a reload), the status bar item and the end-of-run
 * notifications. One call from `activate`.
 */
export function registerTraining(context: vscode.ExtensionContext): vscode.Disposable {
  const roots = () => (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
  const registry = new RunRegistry(roots);
  const log = vscode.window.createOutputChannel('DPO Training');
  const sessions = new TrainingSessions(context.extensionUri, registry, log);
  active = sessions;
  // The dashboard needs the commands (resume) and the commands the dashboard (show): tie the knot late.
  let commands: TrainCommands | undefined;
  const dashboard = new TrainingDashboard({
    extensionUri: context.extensionUri,
    registry,
    stop: (key) => sessions.stop(key),
    resume: async (key) => commands?.resume(key),
    log: (line) => log.appendLine(line),
    output: log,
  });
  commands = new TrainCommands({ context, sessions, registry, dashboard });
  return vscode.Disposable.from(
    log,
    sessions,
    dashboard,
    new TrainingStatusBar(sessions, registry),
    vscode.tasks.registerTaskProvider(DPO_TASK_TYPE, new DpoTaskProvider(sessions)),
    vscode.window.registerWebviewPanelSerializer(DASHBOARD_VIEW_TYPE, {
      async deserializeWebviewPanel(panel: vscode.WebviewPanel) {
        dashboard.revive(panel);
      },
    }),
    commands.register(),
    sessions.onDidMoveRun(({ from, to }) => dashboard.follow(from, to)),
    vscode.commands.registerCommand(SET_UP_TRL_COMMAND, () => runTrlSetup(context.extensionUri, log)),
    registerHubCommands(context, log),
    { dispose: () => (active = undefined) },
  );
}

/** On deactivate (window closing or reloading): trainers checkpoint and stop; wait a few seconds for them. */
export async function stopTrainingOnDeactivate(): Promise<void> {
  await active?.stopAll(4000);
}
