// Which delegating call a subagent's work belongs under, so an editor can nest it
// (docs/protocol.md, "Subagents"). The same rule as the Neovim plugin's blocks.lua:
// the call whose result names the subagent's trajectory (invoke_subagent answers
// with its conversationId), else the newest delegation of the parent trajectory.
// No `vscode` import here.

import type { SubagentMark } from './chunks';
import type { ToolCall, ToolResult } from './types';

/** A subagent's block: where it opens and what it is called. */
export interface SubagentBlock {
  trajectoryId: string;
  /** The enclosing subagent's trajectory when it is one we show, else undefined (the agent itself). */
  parentTrajectoryId?: string;
  depth: number;
  /** The id of the delegating tool call, when known. */
  callId?: string;
  /** "Helper (self): say hi", from the delegating call's arguments. */
  label: string;
}

interface TrackedCall {
  id: string;
  name: string;
  args: Record<string, unknown>;
  result?: string;
  /** undefined: the agent's own call. */
  trajectoryId?: string;
  blocks: number;
}

function text(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function short(s: string, max: number): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}

/** The label of the `index`-th subagent a call starts (from its `Subagents` argument). */
export function subagentLabel(args: Record<string, unknown> | undefined, index: number): string | undefined {
  const list = args?.Subagents ?? args?.subagents;
  const spec = Array.isArray(list) ? (list[index] as Record<string, unknown> | undefined) : undefined;
  if (!spec || typeof spec !== 'object') return undefined;
  const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);
  const kind = str(spec.TypeName) ?? str(spec.type_name);
  const name = str(spec.Role) ?? str(spec.role) ?? kind ?? str(spec.name);
  let label = name ?? 'subagent';
  if (kind && kind !== name) label += ` (${kind})`;
  const prompt = str(spec.Prompt) ?? str(spec.prompt);
  if (prompt) label += `: ${short(prompt, 60)}`;
  return label;
}

export class SubagentTracker {
  private readonly calls = new Map<string, TrackedCall>();
  private readonly order: TrackedCall[] = [];
  private readonly blocks = new Map<string, SubagentBlock>();

  /** A toolCall chunk (of the agent, or of a subagent when `sub` is set). */
  call(call: ToolCall, sub?: SubagentMark): void {
    if (!call.id) return;
    let tracked = this.calls.get(call.id);
    if (!tracked) {
      tracked = { id: call.id, name: call.name, args: call.args ?? {}, blocks: 0 };
      if (sub) tracked.trajectoryId = sub.trajectoryId;
      this.calls.set(call.id, tracked);
      this.order.push(tracked);
    } else if (call.args && Object.keys(call.args).length) {
      tracked.args = call.args;
    }
  }

  /** A toolResult chunk: its result may name the subagent it started. */
  result(result: ToolResult): void {
    const tracked = result.id ? this.calls.get(result.id) : undefined;
    if (tracked) tracked.result = text(result.result);
  }

  block(trajectoryId: string): SubagentBlock | undefined {
    return this.blocks.get(trajectoryId);
  }

  all(): SubagentBlock[] {
    return [...this.blocks.values()];
  }

  /** The block of a marked chunk: `isNew` the first time its trajectory shows. */
  open(mark: SubagentMark): { block: SubagentBlock; isNew: boolean } {
    const known = this.blocks.get(mark.trajectoryId);
    if (known) return { block: known, isNew: false };
    const parent = mark.parentTrajectoryId && this.blocks.has(mark.parentTrajectoryId) ? mark.parentTrajectoryId : undefined;
    const call = this.delegatingCall(mark.trajectoryId, parent);
    const block: SubagentBlock = {
      trajectoryId: mark.trajectoryId,
      depth: mark.depth,
      label: (call && subagentLabel(call.args, call.blocks)) ?? `subagent ${mark.trajectoryId.slice(0, 8)}`,
    };
    if (parent) block.parentTrajectoryId = parent;
    if (call) {
      block.callId = call.id;
      call.blocks += 1;
    }
    this.blocks.set(mark.trajectoryId, block);
    return { block, isNew: true };
  }

  private delegatingCall(trajectoryId: string, parent: string | undefined): TrackedCall | undefined {
    let newest: TrackedCall | undefined;
    for (let i = this.order.length - 1; i >= 0; i--) {
      const call = this.order[i];
      if (!call || call.trajectoryId !== parent) continue;
      if (call.result?.includes(trajectoryId)) return call;
      if (!newest && call.name.includes('subagent')) newest = call;
    }
    return newest;
  }
}
