// agy as a language model in VS Code's model picker (the Language Model Chat
// Provider API). Without Copilot, VS Code answers "Language model unavailable"
// before a chat participant runs when no model can be selected; with this model
// there always is one, so @agy works. Used directly (as the model of another
// participant or an extension), each request runs on a fresh agy agent.

import type * as vscode from 'vscode';
import { estimateTokens, promptFromMessages, type PlainMessage } from '../protocol/lmPrompt';
import { errorText } from '../protocol/methods';
import type { AgentController } from './controller';

export const LM_VENDOR = 'agy';

type LmApi = Pick<typeof vscode, 'LanguageModelTextPart' | 'LanguageModelChatMessageRole'>;

export function agyModelInfo(version: string): vscode.LanguageModelChatInformation {
  return {
    id: 'agy-agent',
    name: 'Antigravity agent (agy-lsp)',
    family: 'agy',
    version,
    detail: 'agy-lsp',
    tooltip: 'A Google Antigravity agent run by agy-lsp, with the backend from the agy.* settings. @agy uses it whatever model is selected.',
    maxInputTokens: 1_000_000,
    maxOutputTokens: 65_536,
    // Agent mode lists only tool-calling models, and it is the default mode: without this the model is not offered.
    capabilities: { toolCalling: true },
  };
}

function plain(vs: LmApi, m: vscode.LanguageModelChatRequestMessage): PlainMessage {
  const text = m.content
    .map((part) => (part instanceof vs.LanguageModelTextPart ? part.value : ''))
    .join('');
  const role = m.role === vs.LanguageModelChatMessageRole.Assistant ? 'assistant' : m.role === vs.LanguageModelChatMessageRole.User ? 'user' : 'system';
  return { role, text };
}

export class AgyLanguageModelProvider implements vscode.LanguageModelChatProvider {
  constructor(
    private readonly vs: LmApi,
    private readonly controller: () => Promise<AgentController>,
    private readonly version: string,
    private readonly log: (line: string) => void = () => undefined,
  ) {}

  provideLanguageModelChatInformation(): vscode.LanguageModelChatInformation[] {
    return [agyModelInfo(this.version)];
  }

  async provideLanguageModelChatResponse(
    _model: vscode.LanguageModelChatInformation,
    messages: readonly vscode.LanguageModelChatRequestMessage[],
    _options: vscode.ProvideLanguageModelChatResponseOptions,
    progress: vscode.Progress<vscode.LanguageModelResponsePart>,
    token: vscode.CancellationToken,
  ): Promise<void> {
    const controller = await this.controller();
    const prompt = promptFromMessages(messages.map((m) => plain(this.vs, m)));
    this.log(`language model request (${messages.length} messages): ${prompt.slice(0, 200).replace(/\s+/g, ' ')}`);
    const agentId = await controller.createSideAgent('language model request');
    try {
      await controller.runTurn(
        prompt,
        { markdown: (text) => progress.report(new this.vs.LanguageModelTextPart(text)), progress: () => undefined },
        token,
        agentId,
      );
    } catch (e) {
      // VS Code shows only the message: give it the server's cause and hint too.
      if (e instanceof Error) e.message = errorText(e);
      throw e;
    } finally {
      await controller.shutdownAgent(agentId).catch(() => undefined);
    }
  }

  provideTokenCount(_model: vscode.LanguageModelChatInformation, text: string | vscode.LanguageModelChatRequestMessage): Promise<number> {
    const value = typeof text === 'string' ? text : plain(this.vs, text).text;
    return Promise.resolve(estimateTokens(value));
  }
}
