// agy/confirmToolCall -> a QuickPick or a modal, plus a diff when a file would change.

import type * as vscode from 'vscode';
import type { CancellationToken } from '../protocol/client';
import {
  confirmChoices,
  describeConfirmation,
  fileChangeOf,
  outcomeFor,
  outcomeForLabel,
  plainLabel,
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

interface ChoiceItem extends vscode.QuickPickItem {
  choice: ConfirmChoice;
}

/** Ask the person; returns the outcome for the server (an optionId or "cancelled"). */
export async function confirmToolCall(
  vs: VsApi,
  proposed: ProposedContent,
  style: ConfirmationStyle,
  params: ConfirmToolCallParams,
  token: CancellationToken,
): Promise<string> {
  const { title, detail } = describeConfirmation(params);
  const choices = confirmChoices(params.options);
  await showToolDiff(vs, proposed, params);
  if (token.isCancellationRequested) return 'cancelled';
  if (style === 'modal') {
    const picked = await vs.window.showWarningMessage(
      title,
      { modal: true, detail },
      ...choices.map((c) => plainLabel(c.label)),
    );
    return token.isCancellationRequested ? 'cancelled' : outcomeForLabel(choices, picked);
  }
  const items: ChoiceItem[] = choices.map((c) => ({ label: c.label, description: c.description, choice: c }));
  if (items[0]) items[0].detail = detail.split('\n').join('  ·  ');
  const picked = await vs.window.showQuickPick(
    items,
    { title, placeHolder: `${params.toolCall.name}: choose whether it may run`, ignoreFocusOut: true },
    token as vscode.CancellationToken,
  );
  return token.isCancellationRequested ? 'cancelled' : outcomeFor(picked?.choice);
}
