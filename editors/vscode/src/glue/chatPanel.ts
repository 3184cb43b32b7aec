// The agy chat panel (a webview): the same turns as @agy, rendered as Markdown
// with code-block copy buttons, file links, collapsible tool calls with their
// outcome, and the usage of each turn. The page itself is src/webview/main.ts.

import type * as vscode from 'vscode';
import { TokenSource } from '../protocol/cancellation';
import type { FromWebview, ToWebview } from '../protocol/panelMessages';
import { errorText } from '../protocol/methods';
import { GO_AHEAD } from '../protocol/plan';
import { usageLine } from '../protocol/toolItems';
import type { AgentController, ViewEvent } from './controller';

export type { FromWebview, ToWebview };

/** What the panel asks of the editor besides turns. */
export interface PanelHost {
  copy(text: string): Thenable<void> | Promise<void>;
  open(href: string): Thenable<unknown> | Promise<unknown>;
}

/** A view event of the controller as a message to the page. */
export function viewMessage(e: ViewEvent): ToWebview {
  const tid = (b: { trajectoryId: string } | undefined) => (b ? { trajectoryId: b.trajectoryId } : {});
  switch (e.kind) {
    case 'subagent':
      return { type: 'subagent', block: e.block };
    case 'text':
      return { type: 'text', text: e.text, trajectoryId: e.block.trajectoryId };
    case 'note':
      return { type: 'note', text: e.text, note: e.note, ...tid(e.block) };
    case 'plan':
      return { type: 'plan', plan: e.plan, ...tid(e.block) };
  }
}

export type PanelHandler = ((m: FromWebview) => Promise<void>) & vscode.Disposable;

/**
 * Handles the panel's messages; `post` sends to the webview. Returns the message
 * handler, which also shows the controller's notices between turns until disposed.
 */
export function chatPanelHandler(controller: AgentController, post: (m: ToWebview) => unknown, host?: PanelHost): PanelHandler {
  let current: TokenSource | undefined;
  const notices = controller.onNotice((text) => post({ type: 'note', text, note: 'info' }));
  const handle = async (message: FromWebview): Promise<void> => {
    let prompt: string;
    switch (message.type) {
      case 'cancel':
        current?.cancel();
        return;
      case 'copy':
        await host?.copy(message.text);
        post({ type: 'copied' });
        return;
      case 'open':
        await host?.open(message.href);
        return;
      case 'prompt':
        prompt = message.text;
        break;
      case 'go':
        prompt = GO_AHEAD;
        break;
      default:
        return;
    }
    if (!prompt.trim()) return;
    current?.cancel();
    const source = new TokenSource();
    current = source;
    post({ type: 'start', prompt });
    try {
      const outcome = await controller.runTurn(
        prompt,
        {
          markdown: (text) => post({ type: 'text', text }),
          progress: (text) => post({ type: 'progress', text }),
          tool: (item) => post({ type: 'tool', item }),
          view: (e) => post(viewMessage(e)),
        },
        source.token,
      );
      const done: Extract<ToWebview, { type: 'done' }> = { type: 'done', cancelled: outcome === undefined };
      const usage = usageLine(outcome?.usage, outcome?.subagentUsage);
      if (usage) done.usage = usage;
      if (outcome?.planning && outcome.plan && outcome.stopReason !== 'cancelled') done.awaitingGo = true;
      post(done);
    } catch (e) {
      post({ type: 'done', cancelled: false, error: errorText(e) });
    } finally {
      if (current === source) current = undefined;
    }
  };
  return Object.assign(handle, {
    dispose: (): void => {
      notices.dispose();
    },
  });
}

/** The panel's page: a strict CSP (no inline script or style; the script by nonce, styles from the extension). */
export function chatPanelHtml(
  webview: Pick<vscode.Webview, 'cspSource'>,
  nonce: string,
  scriptUri: string,
  styleUri: string,
): string {
  const csp = [
    "default-src 'none'",
    `style-src ${webview.cspSource}`,
    `font-src ${webview.cspSource}`,
    `img-src ${webview.cspSource} data:`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${styleUri}">
<title>agy chat</title>
</head>
<body>
<main id="log" aria-live="polite">
  <p class="empty">Ask the Antigravity agent about this workspace. It reads files on its own and asks you before it changes or runs anything.</p>
</main>
<form id="ask">
  <textarea id="prompt" rows="3" placeholder="Ask agy… (Enter to send, Shift+Enter for a new line)" aria-label="Prompt"></textarea>
  <div class="buttons">
    <button type="submit" id="send">Send</button>
    <button type="button" id="stop" class="secondary" disabled>Stop</button>
  </div>
</form>
<script nonce="${nonce}" src="${scriptUri}"></script>
</body></html>`;
}
