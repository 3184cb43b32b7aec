// Chunk assembly: agy/chatChunk notifications -> ordered events and the full turn text.
// No `vscode` import here.

import type { ChatChunk, ToolCall, ToolResult } from './types';

export type TurnEvent =
  | { kind: 'text'; text: string }
  | { kind: 'thought'; text: string }
  | { kind: 'toolCall'; toolCall: ToolCall }
  | { kind: 'toolResult'; toolResult: ToolResult };

/**
 * Puts the chunks of one turn back in `seq` order (seq starts at 1 each turn),
 * drops duplicates, and keeps the running text. Chunks of another turn than the
 * first one seen are ignored.
 */
export class TurnAssembler {
  turnId: string | undefined;
  text = '';
  thought = '';
  readonly toolCalls: ToolCall[] = [];
  readonly toolResults: ToolResult[] = [];
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
    switch (chunk.kind) {
      case 'text':
        this.text += chunk.text ?? '';
        return chunk.text ? { kind: 'text', text: chunk.text } : undefined;
      case 'thought':
        this.thought += chunk.text ?? '';
        return chunk.text ? { kind: 'thought', text: chunk.text } : undefined;
      case 'toolCall':
        if (!chunk.toolCall) return undefined;
        this.toolCalls.push(chunk.toolCall);
        return { kind: 'toolCall', toolCall: chunk.toolCall };
      case 'toolResult':
        if (!chunk.toolResult) return undefined;
        this.toolResults.push(chunk.toolResult);
        return { kind: 'toolResult', toolResult: chunk.toolResult };
      default:
        return undefined;
    }
  }
}

/** A one-line label for a tool call, used as a progress item. */
export function describeToolCall(call: ToolCall): string {
  const args = call.args ?? {};
  const main =
    // Confirmations carry the model's argument names (CommandLine); chunks the SDK's (command_line).
    args.CommandLine ??
    args.command_line ??
    args.TargetFile ??
    args.target_file ??
    args.path ??
    args.file_path ??
    args.AbsolutePath ??
    args.Query ??
    args.query;
  const detail = typeof main === 'string' ? main : Object.keys(args).length ? JSON.stringify(args) : '';
  const short = detail.length > 80 ? `${detail.slice(0, 77)}...` : detail;
  return short ? `Running ${call.name}: ${short}` : `Running ${call.name}`;
}

/** A one-line label for a tool result. */
export function describeToolResult(result: ToolResult): string {
  const name = result.name || 'tool';
  if (result.error) {
    return `${name} failed: ${result.error}`;
  }
  return `${name} finished`;
}
