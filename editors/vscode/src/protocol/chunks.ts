// Chunk assembly: agy/chatChunk notifications -> ordered events and the full turn text.
// No `vscode` import here.

import { mainArgument } from './toolItems';
import type { ChatChunk, Plan, ToolCall, ToolResult } from './types';

/** Where a subagent's chunk belongs (docs/protocol.md, "Subagents"). */
export interface SubagentMark {
  trajectoryId: string;
  parentTrajectoryId?: string;
  depth: number;
  /** The delegating call's id, as the server names it. */
  parentCallId?: string;
}

/** An event of the turn; `sub` is set on a subagent's work (depth > 0), never on the agent's own. */
export type TurnEvent = (
  | { kind: 'text'; text: string }
  | { kind: 'thought'; text: string }
  | { kind: 'toolCall'; toolCall: ToolCall }
  | { kind: 'toolResult'; toolResult: ToolResult }
  | { kind: 'compaction'; text: string }
  | { kind: 'retry'; text: string }
  | { kind: 'plan'; plan: Plan }
) & { sub?: SubagentMark; stepId?: string };

/** The subagent mark of a chunk, or undefined for the agent's own work. */
export function subagentMark(chunk: Pick<ChatChunk, 'depth' | 'trajectoryId' | 'parentTrajectoryId' | 'parentCallId'>): SubagentMark | undefined {
  if (typeof chunk.depth !== 'number' || chunk.depth <= 0) return undefined;
  const mark: SubagentMark = { trajectoryId: chunk.trajectoryId || `depth-${chunk.depth}`, depth: chunk.depth };
  if (chunk.parentTrajectoryId) mark.parentTrajectoryId = chunk.parentTrajectoryId;
  if (chunk.parentCallId) mark.parentCallId = chunk.parentCallId;
  return mark;
}

/**
 * Puts the chunks of one turn back in `seq` order (seq starts at 1 each turn),
 * drops duplicates, and keeps the running text. Chunks of another turn than the
 * first one seen are ignored. `text` and `thought` are the agent's own: a
 * subagent's deltas are events (marked `sub`) but not part of the turn's text.
 */
export class TurnAssembler {
  turnId: string | undefined;
  text = '';
  thought = '';
  readonly toolCalls: ToolCall[] = [];
  readonly toolResults: ToolResult[] = [];
  readonly plans: Plan[] = [];
  /** The subagent trajectories that worked in this turn, in the order they appeared. */
  readonly subagents: string[] = [];
  private nextSeq = 1;
  private readonly early = new Map<number, ChatChunk>();

  /** Feed one chunk; returns the events it releases, in order (possibly none). */
  push(chunk: ChatChunk): TurnEvent[] {
    if (this.turnId === undefined) {
      this.turnId = chunk.turnId;
    } else if (chunk.turnId !== this.turnId) {
      return [];
    }
    if (chunk.seq < this.nextSeq || this.early.has(chunk.seq)) {
      return [];
    }
    this.early.set(chunk.seq, chunk);
    const out: TurnEvent[] = [];
    for (let next = this.early.get(this.nextSeq); next !== undefined; next = this.early.get(this.nextSeq)) {
      this.early.delete(this.nextSeq);
      this.nextSeq += 1;
      const event = this.apply(next);
      if (event) {
        out.push(event);
      }
    }
    return out;
  }

  /** Release whatever is still buffered behind a gap (call when the turn ends). */
  flush(): TurnEvent[] {
    const out: TurnEvent[] = [];
    for (const seq of [...this.early.keys()].sort((a, b) => a - b)) {
      const chunk = this.early.get(seq);
      this.early.delete(seq);
      this.nextSeq = seq + 1;
      const event = chunk ? this.apply(chunk) : undefined;
      if (event) {
        out.push(event);
      }
    }
    return out;
  }

  private apply(chunk: ChatChunk): TurnEvent | undefined {
    const event = this.event(chunk);
    if (!event) return undefined;
    const sub = subagentMark(chunk);
    if (sub) {
      event.sub = sub;
      if (!this.subagents.includes(sub.trajectoryId)) this.subagents.push(sub.trajectoryId);
    }
    if (chunk.stepId) event.stepId = chunk.stepId;
    return event;
  }

  private event(chunk: ChatChunk): TurnEvent | undefined {
    const own = subagentMark(chunk) === undefined;
    switch (chunk.kind) {
      case 'text':
        if (own) this.text += chunk.text ?? '';
        return chunk.text ? { kind: 'text', text: chunk.text } : undefined;
      case 'thought':
        if (own) this.thought += chunk.text ?? '';
        return chunk.text ? { kind: 'thought', text: chunk.text } : undefined;
      case 'toolCall':
        if (!chunk.toolCall) return undefined;
        this.toolCalls.push(chunk.toolCall);
        return { kind: 'toolCall', toolCall: chunk.toolCall };
      case 'toolResult':
        if (!chunk.toolResult) return undefined;
        this.toolResults.push(chunk.toolResult);
        return { kind: 'toolResult', toolResult: chunk.toolResult };
      case 'compaction':
        return { kind: 'compaction', text: chunk.text ?? '' };
      case 'retry':
        return { kind: 'retry', text: chunk.text ?? 'model request failed, retrying' };
      case 'plan': {
        const plan: Plan = chunk.plan ?? { path: 'plan', markdown: chunk.text ?? '', entries: [] };
        if (!plan.markdown && chunk.text) plan.markdown = chunk.text;
        this.plans.push(plan);
        return { kind: 'plan', plan };
      }
      default:
        return undefined;
    }
  }
}

/** A one-line label for a tool call, used as a progress item. */
export function describeToolCall(call: ToolCall): string {
  const args = call.args ?? {};
  // Confirmations carry the model's argument names (CommandLine); chunks the SDK's (command_line).
  const main = mainArgument(args);
  const detail = main || (Object.keys(args).length ? JSON.stringify(args) : '');
  const short = detail.length > 80 ? `${detail.slice(0, 77)}...` : detail;
  return short ? `Running ${call.name}: ${short}` : `Running ${call.name}`;
}

/** A one-line label for a tool result, by its outcome. */
export function describeToolResult(result: ToolResult): string {
  const name = result.name || 'tool';
  const why = result.error ? `: ${result.error}` : '';
  switch (result.outcome) {
    case 'denied':
      return `${name} denied${why}`;
    case 'cancelled':
      return `${name} cancelled${why}`;
    case 'failed':
      return `${name} failed${why}`;
    case 'completed':
      return `${name} finished`;
    default:
      return result.error ? `${name} failed${why}` : `${name} finished`;
  }
}
