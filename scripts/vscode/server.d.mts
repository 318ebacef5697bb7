// Types for server.mjs, so the TypeScript e2e harness can import it.
export interface StartServerOptions {
  /** Folder to open; `workspaceUrl` opens it. */
  workspace?: string;
  /** 0 (default) lets the OS pick a free port. */
  port?: number;
  /** Default: a throwaway folder, removed by stop(). */
  userDataDir?: string;
  /** Default: a throwaway folder, removed by stop(). */
  extensionsDir?: string;
  /** `security.workspace.trust.enabled` (default false, as tests want). */
  workspaceTrust?: boolean;
  /** More user settings, merged over the defaults. */
  settings?: Record<string, unknown>;
  /** Copy this repository's extension into the extensions dir (default true). */
  installExtension?: boolean;
  /** Where code-server's output goes (default `<throwaway>/code-server.log`). */
  logPath?: string;
  /** How long to wait for the HTTP server (default 120000). */
  timeoutMs?: number;
  quiet?: boolean;
  skipPrepare?: boolean;
  /** Keep the throwaway folder on stop(). */
  keep?: boolean;
}

export interface VSCodeServer {
  url: string;
  workspaceUrl: string;
  port: number;
  pid: number;
  logPath: string;
  userDataDir: string;
  extensionsDir: string;
  extensionPath: string | null;
  settingsPath: string;
  vscodeLogsDir: string;
  stop(options?: { keepFiles?: boolean }): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startServer(options?: StartServerOptions): Promise<VSCodeServer>;
export function extensionFiles(root?: string): { manifest: Record<string, unknown>; files: string[] };
export function installExtensionFolder(extensionsDir: string, root?: string): string;
export function writeUserSettings(
  userDataDir: string,
  options: { workspaceTrust: boolean; settings?: Record<string, unknown> },
): string;
