// Messages between the chat panel's webview and the extension. Types only, shared
// by src/glue/chatPanel.ts and the page script (src/webview/main.ts).

import type { SubagentBlock } from './subagents';
import type { ToolItem } from './toolItems';
import type { Plan } from './types';

/** Messages from the webview. */
export type FromWebview =
  | { type: 'ready' }
  | { type: 'prompt'; text: string }
  /** The plan's "Go ahead" button. */
  | { type: 'go' }
  | { type: 'cancel' }
  | { type: 'copy'; text: string }
  | { type: 'open'; href: string };

/** Messages to the webview. */
export type ToWebview =
  | { type: 'start'; prompt: string }
  /** The agent's own text, or a subagent's (`trajectoryId`). */
  | { type: 'text'; text: string; trajectoryId?: string }
  | { type: 'progress'; text: string }
  /** A tool item; a subagent's carries its `trajectoryId`. */
  | { type: 'tool'; item: ToolItem }
  /** A subagent started: its block goes under the delegating call (`block.callId`). */
  | { type: 'subagent'; block: SubagentBlock }
  /** A note in the turn (compaction, a change for this turn), or between turns. */
  | { type: 'note'; text: string; note: 'compaction' | 'info'; trajectoryId?: string }
  | { type: 'plan'; plan: Plan; trajectoryId?: string }
  /** `awaitingGo`: the turn planned; the plan offers "Go ahead". */
  | { type: 'done'; cancelled: boolean; error?: string; usage?: string; awaitingGo?: boolean }
  | { type: 'copied' };
