// agy/confirmToolCall -> a QuickPick or a modal, plus a diff when a file would change.

import type * as vscode from 'vscode';
import type { CancellationToken } from '../protocol/client';
import {
  END_OF_CALL,
  confirmChoices,
  describeConfirmation,
  fileChangeOf,
  outcomeFor,
  outcomeForLabel,
  plainLabel,
  visible,
  type ConfirmChoice,
} from '../protocol/confirm';
import type { ConfirmationStyle } from '../protocol/settings';
import type { ConfirmToolCallParams } from '../protocol/types';
import type { ProposedContent, VsApi } from './vs';

async function readText(vs: VsApi, path: string): Promise<string | undefined> {
  try {
    const bytes = await vs.workspace.fs.readFile(vs.Uri.file(path));
    return new TextDecoder().decode(bytes);
  } catch {
    return undefined;
  }
}

/** Open a diff of the file change a tool call proposes; returns false when the call changes no file. */
export async function showToolDiff(vs: VsApi, proposed: ProposedContent, params: ConfirmToolCallParams): Promise<boolean> {
  const change = fileChangeOf(params.toolCall);
  if (!change) return false;
  const current = await readText(vs, change.path);
  const left = current === undefined ? proposed.put(change.path, '') : vs.Uri.file(change.path);
  const right = proposed.put(change.path, change.newText(current ?? ''));
  const name = change.path.split('/').pop() ?? change.path;
  const title = `${name}: ${current === undefined ? 'new file' : 'current'} ↔ proposed by agy (${params.toolCall.name})`;
  await vs.commands.executeCommand('vscode.diff', left, right, title, { preview: true, preserveFocus: true });
  return true;
}

/** Open the whole call, read-only, beside the editor (the QuickPick stays open: ignoreFocusOut). */
async function showWholeCall(vs: VsApi, proposed: ProposedContent, params: ConfirmToolCallParams, whole: string): Promise<void> {
  const uri = proposed.put(`agy-call/${params.toolCall.name.replace(/[^\w.-]+/g, '_')}.txt`, `${whole}\n${END_OF_CALL}\n`);
  await vs.window.showTextDocument(uri, { preview: true, preserveFocus: true, viewColumn: vs.ViewColumn.Beside });
}

interface ChoiceItem extends vscode.QuickPickItem {
  choice: ConfirmChoice;
}

/**
 * Ask the person; returns the outcome for the server (an optionId or "cancelled").
 * The question shows the whole call (issue #26): in the QuickPick's detail when it
 * fits on its one line, else opened beside with Reject first; a modal's detail holds
 * all of it, and a long one says so and puts Reject first (the modal's default button).
 */
export async function confirmToolCall(
  vs: VsApi,
  proposed: ProposedContent,
  style: ConfirmationStyle,
  params: ConfirmToolCallParams,
  token: CancellationToken,
): Promise<string> {
  const shown = describeConfirmation(params);
  const choices = confirmChoices(params.options, shown.long);
  await showToolDiff(vs, proposed, params);
  if (token.isCancellationRequested) return 'cancelled';
  if (style === 'modal') {
    const note = shown.long ? `This call is ${shown.lineCount} lines. If you cannot read all of it down to "${END_OF_CALL}", choose Reject.\n\n` : '';
    const picked = await vs.window.showWarningMessage(
      `agy wants to run ${visible(params.toolCall.name)}`,
      { modal: true, detail: `${note}${shown.whole}\n${END_OF_CALL}` },
      ...choices.map((c) => plainLabel(c.label)),
    );
    return token.isCancellationRequested ? 'cancelled' : outcomeForLabel(choices, picked);
  }
  if (shown.long) await showWholeCall(vs, proposed, params, shown.whole);
  const items: ChoiceItem[] = choices.map((c) => ({ label: c.label, description: c.description, choice: c }));
  if (items[0]) items[0].detail = shown.detail;
  const picked = await vs.window.showQuickPick(
    items,
    { title: shown.title, placeHolder: `${visible(params.toolCall.name)}: choose whether it may run`, ignoreFocusOut: true },
    token as vscode.CancellationToken,
  );
  return token.isCancellationRequested ? 'cancelled' : outcomeFor(picked?.choice);
}
