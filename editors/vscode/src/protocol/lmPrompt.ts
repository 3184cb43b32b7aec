// A language model request (VS Code's LanguageModelChatProvider) as one agy prompt.
// No `vscode` import here.

export interface PlainMessage {
  role: 'user' | 'assistant' | 'system';
  text: string;
}

/**
 * One user message is sent as it is. A conversation is sent as a transcript, since
 * each request runs on a fresh agent that has not seen the earlier turns.
 */
export function promptFromMessages(messages: PlainMessage[]): string {
  const useful = messages.filter((m) => m.text.trim());
  if (useful.length === 1 && useful[0]?.role === 'user') return useful[0].text;
  const name = { user: 'User', assistant: 'Assistant', system: 'System' } as const;
  const lines = useful.map((m) => `${name[m.role]}: ${m.text.trim()}`);
  return [
    'Continue this conversation as the Assistant. Answer the last User message.',
    '',
    ...lines.flatMap((l) => [l, '']),
  ].join('\n').trimEnd();
}

/** A rough token estimate (4 characters a token), as VS Code only uses it for budgeting. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}
