// Inline edit: the prompt for "rewrite this selection" and extraction of the
// replacement from the reply. No `vscode` import here.

export function inlineEditPrompt(opts: { instruction: string; code: string; languageId: string; fileName: string }): string {
  return [
    `Rewrite the code selected in ${opts.fileName} as instructed.`,
    `Instruction: ${opts.instruction}`,
    'Reply with the complete replacement for the selection in one fenced code block and nothing else.',
    'Do not run tools and do not edit files yourself.',
    '',
    '```' + opts.languageId,
    opts.code,
    '```',
  ].join('\n');
}

/**
 * The replacement text from a reply: the content of the first fenced block, or
 * the whole reply trimmed if it has none. Keeps the selection's trailing newline
 * convention.
 */
export function extractReplacement(reply: string, original: string): string {
  const fence = /```[^\n`]*\n([\s\S]*?)\n?```/.exec(reply);
  let text = fence?.[1] ?? reply.trim();
  if (original.endsWith('\n') && !text.endsWith('\n')) text += '\n';
  if (!original.endsWith('\n') && text.endsWith('\n')) text = text.replace(/\n+$/, '');
  return text;
}

/** The whole document with [start, end) (character offsets) replaced. */
export function spliceText(text: string, start: number, end: number, replacement: string): string {
  return text.slice(0, start) + replacement + text.slice(end);
}
