// The chat panel used where the Chat API (vscode.chat) is absent. Same turn logic
// as the @agy participant: text streams in, tool calls show as progress lines.

import type * as vscode from 'vscode';
import { TokenSource } from '../protocol/cancellation';
import type { AgentController } from './controller';

/** Messages from the webview. */
export type FromWebview = { type: 'prompt'; text: string } | { type: 'cancel' };
/** Messages to the webview. */
export type ToWebview =
  | { type: 'start'; prompt: string }
  | { type: 'text'; text: string }
  | { type: 'progress'; text: string }
  | { type: 'done'; cancelled: boolean; error?: string };

/** Handles the panel's messages; `post` sends to the webview. Returns the message handler. */
export function chatPanelHandler(controller: AgentController, post: (m: ToWebview) => unknown): (m: FromWebview) => Promise<void> {
  let current: TokenSource | undefined;
  return async (message) => {
    if (message.type === 'cancel') {
      current?.cancel();
      return;
    }
    if (message.type !== 'prompt' || !message.text.trim()) return;
    current?.cancel();
    const source = new TokenSource();
    current = source;
    post({ type: 'start', prompt: message.text });
    try {
      const outcome = await controller.runTurn(
        message.text,
        { markdown: (text) => post({ type: 'text', text }), progress: (text) => post({ type: 'progress', text }) },
        source.token,
      );
      post({ type: 'done', cancelled: outcome === undefined });
    } catch (e) {
      post({ type: 'done', cancelled: false, error: e instanceof Error ? e.message : String(e) });
    } finally {
      if (current === source) current = undefined;
    }
  };
}

export function chatPanelHtml(webview: Pick<vscode.Webview, 'cspSource'>, nonce: string): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${webview.cspSource} 'unsafe-inline'; script-src 'nonce-${nonce}';">
<style>
 body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); display: flex; flex-direction: column; height: 100vh; margin: 0; }
 #log { flex: 1; overflow-y: auto; padding: 8px; white-space: pre-wrap; }
 .you { color: var(--vscode-textLink-foreground); margin-top: 8px; }
 .progress { color: var(--vscode-descriptionForeground); font-style: italic; }
 form { display: flex; gap: 4px; padding: 8px; border-top: 1px solid var(--vscode-panel-border); }
 textarea { flex: 1; background: var(--vscode-input-background); color: var(--vscode-input-foreground); }
</style></head>
<body><div id="log"></div>
<form id="f"><textarea id="q" rows="3" placeholder="Ask agy… (Ctrl+Enter to send)"></textarea>
<button type="submit">Send</button><button type="button" id="stop">Stop</button></form>
<script nonce="${nonce}">
 const vscode = acquireVsCodeApi(); const log = document.getElementById('log'); const q = document.getElementById('q');
 let answer;
 function line(cls, text) { const d = document.createElement('div'); d.className = cls; d.textContent = text; log.appendChild(d); log.scrollTop = log.scrollHeight; return d; }
 document.getElementById('f').addEventListener('submit', e => { e.preventDefault(); if (q.value.trim()) { vscode.postMessage({ type: 'prompt', text: q.value }); q.value = ''; } });
 q.addEventListener('keydown', e => { if (e.key === 'Enter' && e.ctrlKey) document.getElementById('f').requestSubmit(); });
 document.getElementById('stop').addEventListener('click', () => vscode.postMessage({ type: 'cancel' }));
 window.addEventListener('message', ({ data: m }) => {
  if (m.type === 'start') { line('you', 'You: ' + m.prompt); answer = line('agy', ''); }
  else if (m.type === 'text') { answer.textContent += m.text; }
  else if (m.type === 'progress') { line('progress', m.text); answer = line('agy', ''); }
  else if (m.type === 'done') { if (m.cancelled) line('progress', 'Cancelled.'); if (m.error) line('progress', 'Error: ' + m.error); }
 });
</script></body></html>`;
}
