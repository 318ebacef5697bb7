import * as vscode from 'vscode';
import type { OpenAIApi } from '../../core/generation/providers/openaiCompatible.ts';
import { SECTION } from '../settings.ts';

/** `dpoStudio.generation.*`: endpoint, model and sampling defaults. Never an API key (see apiKeys.ts). */
export interface GenerationSettings {
  baseUrl: string;
  model: string;
  api: OpenAIApi;
  apiKeyEnv: string;
  candidates: number;
  temperature: number;
  /** Empty: one temperature for all candidates. */
  temperatureSpread: number[];
  /** 1: the provider's default (no top_p sent). */
  topP: number;
  maxTokens: number;
  systemPrompt: string;
  concurrency: number;
  requestTimeoutSeconds: number;
  maxRetries: number;
}

export function readGenerationSettings(scope?: vscode.Uri): GenerationSettings {
  const c = vscode.workspace.getConfiguration(`${SECTION}.generation`, scope);
  return {
    baseUrl: c.get<string>('baseUrl', 'http://127.0.0.1:8000/v1').trim(),
    model: c.get<string>('model', '').trim(),
    api: c.get<OpenAIApi>('api', 'chat'),
    apiKeyEnv: c.get<string>('apiKeyEnv', 'OPENAI_API_KEY').trim(),
    candidates: c.get<number>('candidates', 4),
    temperature: c.get<number>('temperature', 0.8),
    temperatureSpread: c.get<number[]>('temperatureSpread', []),
    topP: c.get<number>('topP', 1),
    maxTokens: c.get<number>('maxTokens', 256),
    systemPrompt: c.get<string>('systemPrompt', ''),
    concurrency: c.get<number>('concurrency', 4),
    requestTimeoutSeconds: c.get<number>('requestTimeoutSeconds', 120),
    maxRetries: c.get<number>('maxRetries', 5),
  };
}
