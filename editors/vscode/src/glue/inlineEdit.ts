// agy.inlineEdit: selection + instruction -> agent -> diff -> accept (WorkspaceEdit) or reject.

import { extractReplacement, inlineEditPrompt, spliceText } from '../protocol/inlineEdit';
import type { AgentController } from './controller';
import type { ProposedContent, VsApi } from './vs';

export type InlineEditResult = 'applied' | 'rejected' | 'cancelled' | 'no-selection' | 'stale';

export async function inlineEdit(
  vs: VsApi,
  controller: AgentController,
  proposed: ProposedContent,
  instructionArg?: string,
): Promise<InlineEditResult> {
  const editor = vs.window.activeTextEditor;
  if (!editor || editor.selection.isEmpty) {
    await vs.window.showInformationMessage('agy: select the code to edit first.');
    return 'no-selection';
  }
  const doc = editor.document;
  const selection = editor.selection;
  const instruction =
    instructionArg ??
    (await vs.window.showInputBox({ title: 'agy: edit selection', prompt: 'What should change?', ignoreFocusOut: true }));
  if (!instruction) return 'cancelled';
  const original = doc.getText(selection);
  const version = doc.version;
  const prompt = inlineEditPrompt({
    instruction,
    code: original,
    languageId: doc.languageId,
    fileName: doc.fileName.split(/[\\/]/).pop() ?? doc.fileName,
  });
  const outcome = await controller.runTurn(prompt, { markdown: () => undefined, progress: () => undefined });
  if (!outcome) return 'cancelled';
  const replacement = extractReplacement(outcome.text, original);
  const full = doc.getText();
  const proposedUri = proposed.put(doc.uri.path, spliceText(full, doc.offsetAt(selection.start), doc.offsetAt(selection.end), replacement));
  await vs.commands.executeCommand('vscode.diff', doc.uri, proposedUri, `agy: ${instruction}`, { preview: true });
  const answer = await vs.window.showInformationMessage(`agy: apply the edit "${instruction}"?`, 'Accept', 'Reject');
  if (answer !== 'Accept') return 'rejected';
  if (doc.version !== version) {
    await vs.window.showWarningMessage('agy: the document changed while the agent worked; edit not applied.');
    return 'stale';
  }
  const edit = new vs.WorkspaceEdit();
  edit.replace(doc.uri, selection, replacement);
  return (await vs.workspace.applyEdit(edit)) ? 'applied' : 'rejected';
}
