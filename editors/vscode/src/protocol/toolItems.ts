// One view item per tool call, merged from agy/confirmToolCall and the toolCall /
// toolResult chunks by the call's `id` (docs/protocol.md, "Tool call ids").
// No `vscode` import here.

import type { ToolCall, ToolResult, Usage } from './types';

export type ToolState = 'asking' | 'allowed' | 'denied' | 'running' | 'done' | 'failed' | 'cancelled';

export interface ToolItem {
  id: string;
  name: string;
  args: Record<string, unknown>;
  state: ToolState;
  result?: unknown;
  error?: string;
}

const FINAL: ToolState[] = ['done', 'failed', 'denied', 'cancelled'];

/** Tracks the tool calls of one turn. Each method returns the item as it now is. */
export class ToolItems {
  private readonly items = new Map<string, ToolItem>();
  private anon = 0;

  private key(id: string | undefined, name: string): string {
    return id ?? `${name}#${++this.anon}`;
  }

  private upsert(id: string, name: string, patch: Partial<ToolItem>): ToolItem {
    const item = this.items.get(id) ?? { id, name, args: {}, state: 'running' as ToolState };
    Object.assign(item, patch);
    this.items.set(id, item);
    return { ...item };
  }

  asking(call: ToolCall): ToolItem {
    return this.upsert(this.key(call.id, call.name), call.name, { state: 'asking', args: call.args ?? {} });
  }

  /** The person's answer: an optionId / kind, or "cancelled". */
  answered(call: ToolCall, outcome: string): ToolItem {
    const state: ToolState = outcome.startsWith('allow') ? 'allowed' : outcome === 'cancelled' ? 'cancelled' : 'denied';
    return this.upsert(this.key(call.id, call.name), call.name, { state });
  }

  started(call: ToolCall): ToolItem {
    const id = this.key(call.id, call.name);
    const prev = this.items.get(id);
    // Confirmations carry the model's argument spelling, which the person saw; keep it.
    const args = prev && Object.keys(prev.args).length ? prev.args : (call.args ?? {});
    return this.upsert(id, call.name, { state: 'running', args });
  }

  finished(result: ToolResult): ToolItem {
    const name = result.name ?? 'tool';
    const patch: Partial<ToolItem> = result.error ? { state: 'failed', error: result.error } : { state: 'done', result: result.result };
    return this.upsert(this.key(result.id, name), name, patch);
  }

  /** When the turn ends cancelled: every unfinished item is cancelled. */
  cancelAll(): ToolItem[] {
    const out: ToolItem[] = [];
    for (const item of this.items.values()) {
      if (!FINAL.includes(item.state)) {
        item.state = 'cancelled';
        out.push({ ...item });
      }
    }
    return out;
  }

  /**
   * When the turn ends normally: items still shown running have ended with it.
   * (agy-lsp 0.1.0 streams a write_to_file call's toolCall chunk as edit_file with
   * another id, and no toolResult for that id.)
   */
  finishAll(): ToolItem[] {
    const out: ToolItem[] = [];
    for (const item of this.items.values()) {
      if (item.state === 'running' || item.state === 'allowed') {
        item.state = 'done';
        out.push({ ...item });
      }
    }
    return out;
  }

  all(): ToolItem[] {
    return [...this.items.values()].map((i) => ({ ...i }));
  }
}

/** "prompt 1.2k · output 300 · total 1.5k tokens" for the end of a turn. */
export function usageLine(usage: Usage | null | undefined): string {
  if (!usage?.totalTokens) return '';
  const parts = [`prompt ${usage.promptTokens ?? 0}`, `output ${usage.candidatesTokens ?? 0}`];
  if (usage.thoughtsTokens) parts.push(`thoughts ${usage.thoughtsTokens}`);
  if (usage.cachedTokens) parts.push(`cached ${usage.cachedTokens}`);
  return `${parts.join(' · ')} · total ${usage.totalTokens} tokens`;
}

/** What a chat-panel link points at. */
export type LinkTarget = { kind: 'external'; url: string } | { kind: 'file'; path: string; line?: number; column?: number } | { kind: 'none' };

/**
 * Classify a link from rendered Markdown: http(s)/mailto open outside; a file URI,
 * absolute or relative path (with `#L12`, `#L12C3` or `:12:3`) opens in the editor.
 */
export function parseLink(href: string): LinkTarget {
  const h = href.trim();
  if (!h || h.startsWith('#')) return { kind: 'none' };
  if (/^(https?|mailto):/i.test(h)) return { kind: 'external', url: h };
  if (/^[a-z][a-z0-9+.-]*:/i.test(h) && !/^file:/i.test(h) && !/^[a-z]:[\\/]/i.test(h)) return { kind: 'none' };
  let rest = h.replace(/^file:\/\//i, '');
  let line: number | undefined;
  let column: number | undefined;
  const hash = /#L(\d+)(?:C(\d+))?$/i.exec(rest);
  if (hash) {
    line = Number(hash[1]);
    column = hash[2] ? Number(hash[2]) : undefined;
    rest = rest.slice(0, hash.index);
  } else {
    const colon = /:(\d+)(?::(\d+))?$/.exec(rest);
    if (colon) {
      line = Number(colon[1]);
      column = colon[2] ? Number(colon[2]) : undefined;
      rest = rest.slice(0, colon.index);
    }
  }
  let path: string;
  try {
    path = decodeURIComponent(rest);
  } catch {
    path = rest;
  }
  if (!path) return { kind: 'none' };
  const target: LinkTarget = { kind: 'file', path };
  if (line !== undefined) target.line = line;
  if (column !== undefined) target.column = column;
  return target;
}
