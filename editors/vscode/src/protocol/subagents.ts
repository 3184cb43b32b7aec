// Which delegating call a subagent's work belongs under, so an editor can nest it
// (docs/protocol.md, "Subagents"): the server names it in every chunk of the
// subagent (`parentCallId`), from the first on; nothing is guessed here.
// No `vscode` import here.

import type { SubagentMark } from './chunks';
import type { ToolCall } from './types';

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
  args: Record<string, unknown>;
  blocks: number;
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
  private readonly blocks = new Map<string, SubagentBlock>();

  /** A toolCall chunk (of the agent, or of a subagent): its arguments label the subagents it starts. */
  call(call: ToolCall): void {
    if (!call.id) return;
    const tracked = this.calls.get(call.id);
    if (!tracked) this.calls.set(call.id, { id: call.id, args: call.args ?? {}, blocks: 0 });
    else if (call.args && Object.keys(call.args).length) tracked.args = call.args;
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
    const call = mark.parentCallId ? this.calls.get(mark.parentCallId) : undefined;
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
}
