// Messages between the chat panel's webview and the extension. Types only, shared
// by src/glue/chatPanel.ts and the page script (src/webview/main.ts).

import type { ToolItem } from './toolItems';

/** Messages from the webview. */
export type FromWebview =
  | { type: 'ready' }
  | { type: 'prompt'; text: string }
  | { type: 'cancel' }
  | { type: 'copy'; text: string }
  | { type: 'open'; href: string };

/** Messages to the webview. */
export type ToWebview =
  | { type: 'start'; prompt: string }
  | { type: 'text'; text: string }
  | { type: 'progress'; text: string }
  | { type: 'tool'; item: ToolItem }
  | { type: 'done'; cancelled: boolean; error?: string; usage?: string }
  | { type: 'copied' };
