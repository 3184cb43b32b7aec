// The extension's state and commands over an AgyClient and the VS Code API.
// Imports `vscode` for types only, so tests drive it with a fake API.

import type * as vscode from 'vscode';
import { describeToolCall } from '../protocol/chunks';
import type { AgyClient, CancellationToken, ChatOutcome } from '../protocol/client';
import { TokenSource, linkedSource } from '../protocol/cancellation';
import { EDITOR_TOOLS, runEditorTool } from '../protocol/editorTools';
import { isCancellation } from '../protocol/methods';
import { createAgentParams, type AgySettings } from '../protocol/settings';
import { renderHistory, statusView } from '../protocol/status';
import { ToolItems, usageLine, type ToolItem } from '../protocol/toolItems';
import type { AgentState, CreateAgentParams, Prompt, Usage } from '../protocol/types';
import { confirmToolCall } from './confirmUi';
import { vsEditorHost } from './editorHost';
import type { ProposedContent, VsApi } from './vs';

/** Where a turn's output goes: the chat response stream, the chat panel or a language model response. */
export interface TurnSink {
  markdown(text: string): void;
  progress(text: string): void;
  /** A tool call's item changed (asked, answered, started, finished). Without it, tool calls become progress lines. */
  tool?(item: ToolItem): void;
}

interface ActiveTurn {
  sink: TurnSink;
  items: ToolItems;
}

/** The progress line for a tool item, where the sink has no richer view. */
export function toolProgress(item: ToolItem): string | undefined {
  switch (item.state) {
    case 'asking':
      return `Waiting for your answer: may ${item.name} run?`;
    case 'running':
      return describeToolCall({ name: item.name, args: item.args });
    case 'done':
      return `${item.name} finished`;
    case 'failed':
      return `${item.name} failed: ${item.error ?? ''}`;
    case 'denied':
      return `${item.name} denied`;
    case 'cancelled':
      return `${item.name} cancelled`;
    default:
      return undefined;
  }
}

export interface ControllerOptions {
  /** Extra createAgent params (tests pass a scripted backend here). */
  agentDefaults?: Partial<CreateAgentParams>;
  /** A line for the log (the agy-lsp output channel). */
  log?: (line: string) => void;
}

export class AgentController implements vscode.Disposable {
  agentId: string | undefined;
  state: AgentState | 'none' = 'none';
  lastUsage: Usage | null = null;
  totalUsage: Usage | undefined;
  private readonly turns = new Set<TokenSource>();
  private readonly active = new Map<string, ActiveTurn>();
  private creating: Promise<string> | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  readonly statusItem: vscode.StatusBarItem;

  constructor(
    private readonly vs: VsApi,
    private readonly client: AgyClient,
    private settings: () => AgySettings,
    readonly proposed: ProposedContent,
    private readonly options: ControllerOptions = {},
  ) {
    this.statusItem = vs.window.createStatusBarItem(vs.StatusBarAlignment.Right, 100);
    this.statusItem.command = 'agy.showHistory';
    this.render();
    this.statusItem.show();
    const host = vsEditorHost(vs);
    client.setConfirmHandler(async (params, token) => {
      const turn = this.active.get(params.agentId);
      if (turn) this.emitTool(turn, turn.items.asking(params.toolCall));
      let outcome = 'cancelled';
      try {
        outcome = await confirmToolCall(vs, proposed, this.settings().confirmationStyle, params, token);
      } finally {
        if (turn) this.emitTool(turn, turn.items.answered(params.toolCall, outcome));
      }
      return outcome;
    });
    client.setToolHandler((params) => Promise.resolve(runEditorTool(host, params)));
    this.disposables.push(
      client.onAgentState((notice) => {
        if (notice.agentId !== this.agentId) return;
        this.state = notice.state;
        this.render();
      }),
    );
  }

  dispose(): void {
    for (const t of this.turns) t.cancel();
    for (const d of this.disposables) d.dispose();
    this.statusItem.dispose();
  }

  render(): void {
    const view = statusView(this.state, this.lastUsage, this.totalUsage);
    this.statusItem.text = view.text;
    this.statusItem.tooltip = view.tooltip;
  }

  private workspaces(): string[] {
    return (this.vs.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
  }

  /** agy.newAgent: a fresh agent with the current settings; becomes the current one. */
  async newAgent(): Promise<string> {
    const params = { ...createAgentParams(this.settings(), this.workspaces(), EDITOR_TOOLS), ...this.options.agentDefaults };
    this.state = 'starting';
    this.render();
    const created = await this.client.createAgent(params);
    this.options.log?.(`new agent ${created.agentId} (policies: ${typeof params.policies === 'string' ? params.policies : 'custom'})`);
    this.agentId = created.agentId;
    this.state = 'idle';
    this.lastUsage = null;
    this.totalUsage = undefined;
    this.render();
    return created.agentId;
  }

  /** After a server restart: the old agent is gone, the next turn creates a new one. */
  forgetAgent(): void {
    this.agentId = undefined;
    this.state = 'none';
    this.lastUsage = null;
    this.totalUsage = undefined;
    this.render();
  }

  /** The current agent, created on first use. */
  async ensureAgent(): Promise<string> {
    if (this.agentId) return this.agentId;
    this.creating ??= this.newAgent().finally(() => {
      this.creating = undefined;
    });
    return this.creating;
  }

  private emitTool(turn: ActiveTurn, item: ToolItem): void {
    if (turn.sink.tool) {
      turn.sink.tool(item);
      return;
    }
    const line = toolProgress(item);
    if (line) turn.sink.progress(line);
  }

  /**
   * One chat turn streamed into `sink`, on the current agent (or `agentId`).
   * Resolves undefined when cancelled.
   */
  async runTurn(prompt: Prompt, sink: TurnSink, token?: CancellationToken, agentId?: string): Promise<ChatOutcome | undefined> {
    const id = agentId ?? (await this.ensureAgent());
    const own = id === this.agentId;
    const source = linkedSource(token);
    const turn: ActiveTurn = { sink, items: new ToolItems() };
    this.turns.add(source);
    this.active.set(id, turn);
    if (own) {
      this.state = 'busy';
      this.render();
    }
    let cancelled = false;
    try {
      const outcome = await this.client.chat(id, prompt, {
        token: source.token,
        onEvent: (e) => {
          if (e.kind === 'text') sink.markdown(e.text);
          else if (e.kind === 'toolCall') this.emitTool(turn, turn.items.started(e.toolCall));
          else if (e.kind === 'toolResult') this.emitTool(turn, turn.items.finished(e.toolResult));
          else sink.progress('Thinking…');
        },
      });
      if (own) this.lastUsage = outcome.usage;
      if (outcome.stopReason === 'cancelled') cancelled = true;
      return outcome;
    } catch (e) {
      if (isCancellation(e)) {
        cancelled = true;
        return undefined;
      }
      throw e;
    } finally {
      const ended = cancelled || source.token.isCancellationRequested ? turn.items.cancelAll() : turn.items.finishAll();
      for (const item of ended) this.emitTool(turn, item);
      this.turns.delete(source);
      if (this.active.get(id) === turn) this.active.delete(id);
      source.dispose();
      if (own) await this.refreshUsage(id);
    }
  }

  /** A separate agent (e.g. for a language model request); the caller shuts it down. */
  async createSideAgent(name: string): Promise<string> {
    const params = { ...createAgentParams(this.settings(), this.workspaces(), EDITOR_TOOLS, name), ...this.options.agentDefaults };
    return (await this.client.createAgent(params)).agentId;
  }

  async shutdownAgent(agentId: string): Promise<void> {
    await this.client.shutdownAgent(agentId);
  }

  private async refreshUsage(agentId: string): Promise<void> {
    try {
      const status = await this.client.status(agentId);
      if (agentId !== this.agentId) return;
      this.state = status.state;
      this.totalUsage = status.totalUsage;
      this.lastUsage = status.lastTurnUsage ?? this.lastUsage;
    } catch {
      // the agent may be gone; keep what we have
    }
    this.render();
  }

  /** agy.cancel: stop every running turn of this window. */
  async cancel(): Promise<boolean> {
    const had = this.turns.size > 0;
    for (const t of [...this.turns]) t.cancel();
    if (this.agentId && !had) {
      return (await this.client.cancel(this.agentId)).cancelled;
    }
    return had;
  }

  /** agy.showHistory: the current agent's steps in a Markdown document. */
  async showHistory(): Promise<vscode.TextDocument | undefined> {
    if (!this.agentId) {
      await this.vs.window.showInformationMessage('agy: no agent yet. Ask @agy something or run "agy: New Agent".');
      return undefined;
    }
    const history = await this.client.history(this.agentId);
    const doc = await this.vs.workspace.openTextDocument({ language: 'markdown', content: renderHistory(this.agentId, history) });
    await this.vs.window.showTextDocument(doc, { preview: true });
    return doc;
  }

  /** agy.resetPermissions: forget every "always" choice of the current agent. */
  async resetPermissions(): Promise<boolean> {
    if (!this.agentId) return false;
    await this.client.resetPermissions(this.agentId);
    await this.vs.window.showInformationMessage('agy: remembered tool permissions cleared.');
    return true;
  }

  /** The @agy chat participant's request handler. */
  chatHandler(): vscode.ChatRequestHandler {
    return async (request, _context, stream, token) => {
      try {
        const outcome = await this.runTurn(request.prompt, stream, token);
        if (!outcome) {
          stream.markdown('\n\n_Cancelled._');
          return { metadata: { cancelled: true } };
        }
        const usage = usageLine(outcome.usage);
        if (usage) stream.markdown(`\n\n_${usage}_`);
        return { metadata: { turnId: outcome.turnId, stopReason: outcome.stopReason, usage: outcome.usage } };
      } catch (e) {
        return { errorDetails: { message: `agy: ${e instanceof Error ? e.message : String(e)}` } };
      }
    };
  }
}

/** A TokenSource for turns started outside the Chat API (webview, inline edit). */
export function newTokenSource(): TokenSource {
  return new TokenSource();
}
