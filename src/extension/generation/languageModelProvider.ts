import * as vscode from 'vscode';
import { promptToText } from '../../core/dataset/formats.ts';
import { ProviderError, type CandidateProvider, type GeneratedText, type GenerationRequest, type ProviderIdentity } from '../../core/generation/types.ts';

/**
 * Answers from a chat model another extension offers through VS Code's Language Model API
 * (GitHub Copilot Chat, for one). The API takes user and assistant turns only and no sampling
 * settings, so candidates differ by the model's own sampling; each answer is its own request.
 * The first request shows VS Code's consent dialog, which is why this runs from the user's
 * command and never in the background.
 */
export class LanguageModelProvider implements CandidateProvider {
  readonly identity: ProviderIdentity;
  readonly supportsSystemPrompt = false;
  readonly supportsSampling = false;

  constructor(private readonly model: vscode.LanguageModelChat) {
    this.identity = { provider: 'vscode-lm', model: `${model.vendor}/${model.id}` };
  }

  maxAnswersPerCall(): number {
    return 1;
  }

  async complete(request: GenerationRequest, signal: AbortSignal): Promise<GeneratedText[]> {
    const answers: GeneratedText[] = [];
    for (let i = 0; i < request.n; i++) answers.push(await this.once(request, signal));
    return answers;
  }

  private async once(request: GenerationRequest, signal: AbortSignal): Promise<GeneratedText> {
    signal.throwIfAborted();
    const cancel = new vscode.CancellationTokenSource();
    const onAbort = () => cancel.cancel();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const messages = toMessages(request);
      const response = await this.model.sendRequest(messages, { justification: 'DPO Studio asks for several answers to each prompt, for you to label as preference data.' }, cancel.token);
      let text = '';
      for await (const chunk of response.text) text += chunk;
      signal.throwIfAborted();
      const completionTokens = await this.model.countTokens(text, cancel.token).then(
        (n) => n,
        () => undefined,
      );
      return { text, ...(completionTokens !== undefined ? { completionTokens } : {}) };
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      if (error instanceof vscode.LanguageModelError) {
        // No consent, blocked (quota), or a model that went away: every other prompt would fail alike.
        const fatal = ['NoPermissions', 'Blocked', 'NotFound'].includes(error.code);
        throw new ProviderError(`${this.model.name} (${this.identity.model}): ${error.message || error.code}`, fatal);
      }
      throw new ProviderError(`${this.model.name}: ${(error as Error).message}`, false);
    } finally {
      signal.removeEventListener('abort', onAbort);
      cancel.dispose();
    }
  }
}

/** The API has no system role: a prompt's system turn is sent as a first user turn. */
function toMessages(request: GenerationRequest): vscode.LanguageModelChatMessage[] {
  const { prompt } = request;
  if (!Array.isArray(prompt)) return [vscode.LanguageModelChatMessage.User(promptToText(prompt))];
  return prompt.map((m) => (m.role === 'assistant' ? vscode.LanguageModelChatMessage.Assistant(m.content) : vscode.LanguageModelChatMessage.User(m.content)));
}
