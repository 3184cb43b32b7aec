// One view item per tool call, merged from agy/confirmToolCall and the toolCall /
// toolResult chunks by the call's `id` (docs/protocol.md, "Tool call ids").
// No `vscode` import here.

import type { SubagentMark } from './chunks';
import type { ToolCall, ToolOutcome, ToolResult, Usage } from './types';

export type ToolState = 'asking' | 'allowed' | 'denied' | 'running' | 'done' | 'failed' | 'cancelled';

export interface ToolItem {
  id: string;
  name: string;
  args: Record<string, unknown>;
  state: ToolState;
  result?: unknown;
  /** The error of a failed call, or why a call never ran (denied, cancelled). */
  error?: string;
  /** The outcome the server reported in the call's toolResult (absent until then). */
  outcome?: ToolOutcome;
  /** Set on a subagent's call: the trajectory it belongs to, and its depth. */
  trajectoryId?: string;
  depth?: number;
}

const FINAL: ToolState[] = ['done', 'failed', 'denied', 'cancelled'];

const BY_OUTCOME: Record<ToolOutcome, ToolState> = { completed: 'done', failed: 'failed', denied: 'denied', cancelled: 'cancelled' };

/** The item state for a toolResult: by its outcome; without one (an older server), an error means failed. */
export function stateOfResult(result: ToolResult): ToolState {
  if (result.outcome && result.outcome in BY_OUTCOME) return BY_OUTCOME[result.outcome];
  return result.error ? 'failed' : 'done';
}

/** The argument that says most about a call, for one-line labels (both argument spellings). */
export function mainArgument(args: Record<string, unknown>): string {
  for (const k of ['CommandLine', 'command_line', 'TargetFile', 'target_file', 'AbsolutePath', 'file_path', 'path', 'DirectoryPath', 'directory_path', 'Url', 'url', 'Query', 'query']) {
    const v = args[k];
    if (typeof v === 'string' && v) return v;
  }
  const subagents = args.Subagents ?? args.subagents;
  if (Array.isArray(subagents)) {
    return subagents
      .map((s: unknown) => {
        const spec = (s ?? {}) as Record<string, unknown>;
        const role = spec.Role ?? spec.role ?? spec.TypeName ?? spec.type_name;
        const prompt = spec.Prompt ?? spec.prompt;
        return [role, prompt].filter((v) => typeof v === 'string' && v).join(': ');
      })
      .filter(Boolean)
      .join('; ');
  }
  return '';
}

/** Tracks the tool calls of one turn. Each method returns the item as it now is. */
export class ToolItems {
  private readonly items = new Map<string, ToolItem>();
  private anon = 0;

  private key(id: string | undefined, name: string): string {
    return id ?? `${name}#${++this.anon}`;
  }

  private upsert(id: string, name: string, patch: Partial<ToolItem>, sub?: SubagentMark): ToolItem {
    const item = this.items.get(id) ?? { id, name, args: {}, state: 'running' as ToolState };
    Object.assign(item, patch);
    if (sub) {
      item.trajectoryId = sub.trajectoryId;
      item.depth = sub.depth;
    }
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

  /** The call's toolCall chunk. A call already answered "no" stays denied: it never runs. */
  started(call: ToolCall, sub?: SubagentMark): ToolItem {
    const id = this.key(call.id, call.name);
    const prev = this.items.get(id);
    // Confirmations carry the model's argument spelling, which the person saw; keep it.
    const args = prev && Object.keys(prev.args).length ? prev.args : (call.args ?? {});
    const state: ToolState = prev && FINAL.includes(prev.state) ? prev.state : 'running';
    return this.upsert(id, call.name, { state, args }, sub);
  }

  /** The call's toolResult chunk: its state follows the outcome; a call that never ran carries its reason. */
  finished(result: ToolResult, sub?: SubagentMark): ToolItem {
    const name = result.name ?? 'tool';
    const state = stateOfResult(result);
    const patch: Partial<ToolItem> = { state };
    if (result.outcome) patch.outcome = result.outcome;
    if (result.error) patch.error = result.error;
    if (result.result !== undefined && result.result !== null) patch.result = result.result;
    return this.upsert(this.key(result.id, name), name, patch, sub);
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
   * When the turn ends normally: items still shown running have ended with it. Every
   * call gets a toolResult with its outcome; this only covers a result that never came
   * (such items have no `outcome`).
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

/** Tokens the turn's subagents used (agy/status trajectoryUsage), part of the turn's total. */
export interface SubagentUsage {
  tokens: number;
  count: number;
}

/** "prompt 1.2k · output 300 · total 1.5k tokens" for the end of a turn, with the subagents' share. */
export function usageLine(usage: Usage | null | undefined, subagents?: SubagentUsage): string {
  if (!usage?.totalTokens) return '';
  const parts = [`prompt ${usage.promptTokens ?? 0}`, `output ${usage.candidatesTokens ?? 0}`];
  if (usage.thoughtsTokens) parts.push(`thoughts ${usage.thoughtsTokens}`);
  if (usage.cachedTokens) parts.push(`cached ${usage.cachedTokens}`);
  const line = `${parts.join(' · ')} · total ${usage.totalTokens} tokens`;
  if (!subagents?.count) return line;
  return `${line} · ${subagents.tokens} by ${subagents.count === 1 ? 'the subagent' : `${subagents.count} subagents`}`;
}

/** The subagents' share of the turn from agy/status trajectoryUsage, for the trajectories seen in the turn. */
export function subagentUsage(trajectoryUsage: { trajectoryId: string; usage: Usage }[] | undefined, seen: string[]): SubagentUsage | undefined {
  const mine = (trajectoryUsage ?? []).filter((t) => seen.includes(t.trajectoryId));
  if (!mine.length) return undefined;
  return { tokens: mine.reduce((n, t) => n + (t.usage.totalTokens ?? 0), 0), count: mine.length };
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
