import * as vscode from 'vscode';
import { apiRoot } from '../../core/generation/providers/openaiCompatible.ts';
import { readGenerationSettings } from './generationSettings.ts';

/**
 * API keys live in VS Code's SecretStorage (the OS keychain), one per server origin, so a key
 * saved for one server is never sent to another; or in an environment variable named by a
 * setting. Never in settings, which sync, sit in workspace files and get committed.
 */

export const SET_API_KEY_COMMAND = 'dpoStudio.generation.setApiKey';

function secretName(baseUrl: string): string {
  return `dpoStudio.generation.apiKey:${new URL(apiRoot(baseUrl)).origin}`;
}

export interface ApiKey {
  key?: string;
  /** Where it came from, for messages: "saved for http://host", "$VAR", or how to set one. */
  hint: string;
}

export async function apiKeyFor(secrets: vscode.SecretStorage, baseUrl: string, envVar: string): Promise<ApiKey> {
  const origin = new URL(apiRoot(baseUrl)).origin;
  const saved = await secrets.get(secretName(baseUrl));
  if (saved) return { key: saved, hint: `the key saved for ${origin}: change it with "DPO: Set API Key"` };
  const fromEnv = envVar ? process.env[envVar] : undefined;
  if (fromEnv) return { key: fromEnv, hint: `the key comes from $${envVar}; save another with "DPO: Set API Key"` };
  return { hint: `no key is saved for ${origin}: set one with "DPO: Set API Key"` };
}

/** "DPO: Set API Key": asks for the server and the key (hidden while typed); an empty key removes the saved one. */
export function registerSetApiKeyCommand(context: vscode.ExtensionContext): vscode.Disposable {
  return vscode.commands.registerCommand(SET_API_KEY_COMMAND, async (baseUrlArgument?: string) => {
    const baseUrl =
      typeof baseUrlArgument === 'string'
        ? baseUrlArgument
        : await vscode.window.showInputBox({
            title: 'Set API Key (1/2): server',
            prompt: 'Base URL of the OpenAI-compatible server the key is for',
            value: readGenerationSettings().baseUrl,
            validateInput: validBaseUrl,
          });
    if (!baseUrl) return;
    const origin = new URL(apiRoot(baseUrl)).origin;
    const key = await vscode.window.showInputBox({
      title: 'Set API Key (2/2): key',
      prompt: `API key for ${origin}, kept in VS Code's secret storage (empty: remove the saved key)`,
      password: true,
      ignoreFocusOut: true,
    });
    if (key === undefined) return;
    if (key.trim() === '') {
      await context.secrets.delete(secretName(baseUrl));
      void vscode.window.showInformationMessage(`Removed the API key saved for ${origin}.`);
    } else {
      await context.secrets.store(secretName(baseUrl), key.trim());
      void vscode.window.showInformationMessage(`Saved the API key for ${origin} in VS Code's secret storage.`);
    }
  });
}

export function validBaseUrl(value: string): string | undefined {
  try {
    apiRoot(value);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
