// The agy chat panel (a webview): the same turns as @agy, rendered as Markdown
// with code-block copy buttons, file links, collapsible tool calls with their
// outcome, and the usage of each turn. The page itself is src/webview/main.ts.

import type * as vscode from 'vscode';
import { TokenSource } from '../protocol/cancellation';
import type { FromWebview, ToWebview } from '../protocol/panelMessages';
import { usageLine } from '../protocol/toolItems';
import type { AgentController } from './controller';

export type { FromWebview, ToWebview };

/** What the panel asks of the editor besides turns. */
export interface PanelHost {
  copy(text: string): Thenable<void> | Promise<void>;
  open(href: string): Thenable<unknown> | Promise<unknown>;
}

/** Handles the panel's messages; `post` sends to the webview. Returns the message handler. */
export function chatPanelHandler(
  controller: AgentController,
  post: (m: ToWebview) => unknown,
  host?: PanelHost,
): (m: FromWebview) => Promise<void> {
  let current: TokenSource | undefined;
  return async (message) => {
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
        break;
      default:
        return;
    }
    if (!message.text.trim()) return;
    current?.cancel();
    const source = new TokenSource();
    current = source;
    post({ type: 'start', prompt: message.text });
    try {
      const outcome = await controller.runTurn(
        message.text,
        {
          markdown: (text) => post({ type: 'text', text }),
          progress: (text) => post({ type: 'progress', text }),
          tool: (item) => post({ type: 'tool', item }),
        },
        source.token,
      );
      const usage = usageLine(outcome?.usage);
      post(usage ? { type: 'done', cancelled: outcome === undefined, usage } : { type: 'done', cancelled: outcome === undefined });
    } catch (e) {
      post({ type: 'done', cancelled: false, error: e instanceof Error ? e.message : String(e) });
    } finally {
      if (current === source) current = undefined;
    }
  };
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
