// The extension's state and commands over an AgyClient and the VS Code API.
// Imports `vscode` for types only, so tests drive it with a fake API.

import type * as vscode from 'vscode';
import { describeToolCall } from '../protocol/chunks';
import type { AgyClient, CancellationToken, ChatOutcome } from '../protocol/client';
import { TokenSource, linkedSource } from '../protocol/cancellation';
import { EDITOR_TOOLS, runEditorTool } from '../protocol/editorTools';
import { MarkdownTurnWriter } from '../protocol/markdownTurn';
import { errorField, errorText, isBusy, isCancellation } from '../protocol/methods';
import { GO_AHEAD, compactionText, isPlanPrompt, planPrompt } from '../protocol/plan';
import {
  PRESETS,
  PRESET_HELP,
  THINKING_LEVELS,
  backendTakesModelOptions,
  createAgentParams,
  interactive,
  modelOptionsFor,
  policyFor,
  type AgySettings,
} from '../protocol/settings';
import { renderHistory, statusView } from '../protocol/status';
import { SubagentTracker, type SubagentBlock } from '../protocol/subagents';
import { ToolItems, subagentUsage, usageLine, type SubagentUsage, type ToolItem } from '../protocol/toolItems';
import type {
  AgentState,
  Capabilities,
  ConfigureAgentParams,
  CreateAgentParams,
  ModelOptions,
  Plan,
  Policies,
  PolicyPreset,
  Prompt,
  ThinkingLevel,
  Usage,
} from '../protocol/types';
import { confirmToolCall } from './confirmUi';
import { vsEditorHost } from './editorHost';
import type { ProposedContent, VsApi } from './vs';

/** What a turn shows besides the agent's own text and its tool calls. */
export type ViewEvent =
  /** A subagent started work (nested under the call that delegated it, when known). */
  | { kind: 'subagent'; block: SubagentBlock }
  /** A subagent's text. */
  | { kind: 'text'; block: SubagentBlock; text: string }
  /** A one-line note: history was compacted, or the agent was changed for this turn. */
  | { kind: 'note'; note: 'compaction' | 'info'; text: string; block?: SubagentBlock }
  /** The agent wrote its plan (updated in place when the same file is written again). */
  | { kind: 'plan'; plan: Plan; block?: SubagentBlock };

/** Where a turn's output goes: the chat response stream, the chat panel or a language model response. */
export interface TurnSink {
  /** The agent's own answer text. */
  markdown(text: string): void;
  progress(text: string): void;
  /** A tool call's item changed (asked, answered, started, finished). Without it, tool calls become progress lines. */
  tool?(item: ToolItem): void;
  /** Subagent work, notes and plans. Without it they are not shown (a language model response, an inline edit). */
  view?(event: ViewEvent): void;
}

/** A sink that writes the whole turn as one Markdown stream (the @agy response): subagents as quotes. */
export function markdownSink(writer: MarkdownTurnWriter, progress: (text: string) => void): TurnSink {
  return {
    markdown: (text) => writer.text(text),
    progress,
    view: (e) => {
      switch (e.kind) {
        case 'text':
          writer.subagentText(e.block, e.text);
          return;
        case 'note':
          writer.note(e.text, e.block);
          return;
        case 'plan':
          writer.plan(e.plan, e.block);
          return;
        default:
          return;
      }
    },
  };
}

export interface TurnOutcome extends ChatOutcome {
  /** The prompt asked for a plan (`/plan …`). */
  planning: boolean;
  /** The newest plan the agent wrote in this turn. */
  plan?: Plan;
  /** The share of the turn's tokens its subagents used. */
  subagentUsage?: SubagentUsage;
}

interface ActiveTurn {
  sink: TurnSink;
  items: ToolItems;
  tracker: SubagentTracker;
  /** What was last shown per tool item, so an unchanged item is not shown twice. */
  shown: Map<string, string>;
  /** The step the agent's last text came from: its text in a new step starts a new paragraph. */
  step?: string;
}

/** The current agent's settings that the commands change between turns. */
interface AgentConfig {
  policies?: Policies;
  capabilities?: Capabilities;
  modelOptions?: ModelOptions;
}

/** The progress line for a tool item, where the sink has no richer view. */
export function toolProgress(item: ToolItem): string | undefined {
  const line = ((): string | undefined => {
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
        return item.error ? `${item.name} denied: ${item.error}` : `${item.name} denied`;
      case 'cancelled':
        return `${item.name} cancelled`;
      default:
        return undefined;
    }
  })();
  // A subagent's call, under the subagent's work.
  return line && item.depth ? `${'↳ '.repeat(item.depth)}${line}` : line;
}

/** A person's wording of a failed agy/configureAgent or agy/createAgent. */
export function explainConfigureError(what: 'thinking' | 'policy', err: unknown): string {
  if (isBusy(err)) return 'a turn is running: change it after the turn, or cancel it (agy: Cancel).';
  const message = errorText(err);
  if (what === 'thinking' && errorField(err)?.startsWith('modelOptions')) {
    return `the thinking level needs a Gemini or Vertex model; this agent uses another backend (${message}).`;
  }
  return message;
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
  /** The current agent's policies, capabilities and model options, as created or last configured. */
  config: AgentConfig = {};
  private readonly turns = new Set<TokenSource>();
  private readonly active = new Map<string, ActiveTurn>();
  private creating: Promise<string> | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly noticeListeners = new Set<(text: string) => void>();
  private warnedModelOptions = false;
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
    this.noticeListeners.clear();
    this.statusItem.dispose();
  }

  render(): void {
    const view = statusView(this.state, this.lastUsage, this.totalUsage, this.agentLines());
    this.statusItem.text = view.text;
    this.statusItem.tooltip = view.tooltip;
  }

  private agentLines(): string[] {
    if (!this.agentId) return [];
    const c = this.config;
    const preset = typeof c.policies === 'string' ? c.policies : c.policies ? 'custom rules' : 'safeDefaults';
    return [
      `Policy: ${preset}`,
      `Thinking level: ${c.modelOptions?.thinkingLevel ?? 'the model default'}`,
      `Behaviour: ${c.capabilities?.agentBehavior ?? 'autonomous'}`,
    ];
  }

  /** Lines for the chat panel between turns ("thinking level high (from the next turn)"). */
  onNotice(listener: (text: string) => void): vscode.Disposable {
    this.noticeListeners.add(listener);
    return { dispose: () => this.noticeListeners.delete(listener) };
  }

  private notice(text: string): void {
    this.options.log?.(text);
    for (const l of this.noticeListeners) l(text);
  }

  private workspaces(): string[] {
    return (this.vs.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
  }

  private agentParams(name?: string): CreateAgentParams {
    return { ...createAgentParams(this.settings(), this.workspaces(), EDITOR_TOOLS, name), ...this.options.agentDefaults };
  }

  /**
   * createAgent. Model options from the settings are for Gemini and Vertex; when the
   * server's default backend turns out to be another, the agent starts without them
   * (said once). Model options asked for by a command are never dropped.
   */
  private async create(params: CreateAgentParams, fromSettings: boolean): Promise<string> {
    try {
      return (await this.client.createAgent(params)).agentId;
    } catch (e) {
      if (!fromSettings || !params.modelOptions || !errorField(e)?.startsWith('modelOptions')) throw e;
      const { modelOptions: _dropped, ...rest } = params;
      this.options.log?.(`model options ${JSON.stringify(_dropped)} refused by this backend; the agent starts without them`);
      if (!this.warnedModelOptions) {
        this.warnedModelOptions = true;
        void this.vs.window.showWarningMessage(
          'agy: agy.thinkingLevel and the other model options apply to Gemini and Vertex models only; this agent runs without them.',
        );
      }
      params.modelOptions = undefined;
      return (await this.client.createAgent(rest)).agentId;
    }
  }

  /** agy.newAgent: a fresh agent with the current settings (and `override`); becomes the current one. */
  async newAgent(override: Partial<CreateAgentParams> = {}): Promise<string> {
    const params: CreateAgentParams = { ...this.agentParams(), ...override };
    const fromSettings = override.modelOptions === undefined;
    this.state = 'starting';
    this.render();
    let agentId: string;
    try {
      agentId = await this.create(params, fromSettings);
    } catch (e) {
      this.state = this.agentId ? 'idle' : 'none';
      this.render();
      throw e;
    }
    this.options.log?.(`new agent ${agentId} (policies: ${typeof params.policies === 'string' ? params.policies : 'custom'})`);
    this.agentId = agentId;
    this.config = { policies: params.policies, capabilities: params.capabilities, modelOptions: params.modelOptions };
    this.state = 'idle';
    this.lastUsage = null;
    this.totalUsage = undefined;
    this.render();
    return agentId;
  }

  /** After a server restart: the old agent is gone, the next turn creates a new one. */
  forgetAgent(): void {
    this.agentId = undefined;
    this.config = {};
    this.state = 'none';
    this.lastUsage = null;
    this.totalUsage = undefined;
    this.render();
  }

  /** The current agent, created on first use (with `override` when it is created now). */
  async ensureAgent(override?: Partial<CreateAgentParams>): Promise<string> {
    if (this.agentId) return this.agentId;
    this.creating ??= this.newAgent(override).finally(() => {
      this.creating = undefined;
    });
    return this.creating;
  }

  /** True while a turn of the current agent runs. */
  get busy(): boolean {
    return this.agentId !== undefined && this.active.has(this.agentId);
  }

  private emitTool(turn: ActiveTurn, item: ToolItem): void {
    const seen = JSON.stringify(item);
    if (turn.shown.get(item.id) === seen) return;
    turn.shown.set(item.id, seen);
    if (turn.sink.tool) {
      turn.sink.tool(item);
      return;
    }
    const line = toolProgress(item);
    if (line) turn.sink.progress(line);
  }

  private openBlock(turn: ActiveTurn, mark: Parameters<SubagentTracker['open']>[0]): SubagentBlock {
    const { block, isNew } = turn.tracker.open(mark);
    if (isNew) turn.sink.view?.({ kind: 'subagent', block });
    return block;
  }

  /** Plan mode needs an interactive agent: make the current one interactive (from this turn on). */
  private async makeInteractive(agentId: string, sink: TurnSink): Promise<void> {
    if (this.config.capabilities?.agentBehavior === 'interactive') return;
    const capabilities = interactive(this.config.capabilities);
    await this.client.configureAgent({ agentId, capabilities });
    this.config.capabilities = capabilities;
    this.options.log?.(`agent ${agentId} is now interactive (plan mode)`);
    sink.view?.({ kind: 'note', note: 'info', text: 'This agent is now interactive: it plans, then waits for your go-ahead.' });
    this.render();
  }

  /**
   * One chat turn streamed into `sink`, on the current agent (or `agentId`).
   * A `/plan …` prompt makes the current agent interactive first. Resolves undefined when cancelled.
   */
  async runTurn(prompt: Prompt, sink: TurnSink, token?: CancellationToken, agentId?: string): Promise<TurnOutcome | undefined> {
    const planning = isPlanPrompt(prompt);
    const id = agentId ?? (await this.ensureAgent(planning ? { capabilities: interactive(this.agentParams().capabilities) } : undefined));
    const own = id === this.agentId;
    if (planning && own) await this.makeInteractive(id, sink);
    const source = linkedSource(token);
    const turn: ActiveTurn = { sink, items: new ToolItems(), tracker: new SubagentTracker(), shown: new Map() };
    this.turns.add(source);
    this.active.set(id, turn);
    if (own) {
      this.state = 'busy';
      this.render();
    }
    let cancelled = false;
    let outcome: ChatOutcome | undefined;
    try {
      outcome = await this.client.chat(id, prompt, {
        token: source.token,
        onEvent: (e) => {
          const block = e.sub ? this.openBlock(turn, e.sub) : undefined;
          switch (e.kind) {
            case 'text':
              if (block) {
                sink.view?.({ kind: 'text', block, text: e.text });
                break;
              }
              // An answer in several steps (tool calls or a subagent's work between them) is told apart.
              if (e.stepId && turn.step && e.stepId !== turn.step) sink.markdown('\n\n');
              if (e.stepId) turn.step = e.stepId;
              sink.markdown(e.text);
              break;
            case 'thought':
              if (!block) sink.progress('Thinking…');
              break;
            case 'toolCall':
              turn.tracker.call(e.toolCall);
              this.emitTool(turn, turn.items.started(e.toolCall, e.sub));
              break;
            case 'toolResult':
              this.emitTool(turn, turn.items.finished(e.toolResult, e.sub));
              break;
            case 'compaction':
              sink.view?.({ kind: 'note', note: 'compaction', text: `⟲ ${compactionText(e.text)}`, block });
              break;
            case 'retry': // the harness retries the model: a note, and the spinner says so meanwhile
              if (!block) sink.progress(`${e.text}…`);
              sink.view?.({ kind: 'note', note: 'info', text: `↻ ${e.text}…`, block });
              break;
            case 'plan':
              sink.view?.({ kind: 'plan', plan: e.plan, block });
              break;
          }
        },
      });
      if (own) this.lastUsage = outcome.usage;
      if (outcome.stopReason === 'cancelled') cancelled = true;
    } catch (e) {
      if (!isCancellation(e)) throw e;
      cancelled = true;
      outcome = undefined;
    } finally {
      const ended = cancelled || source.token.isCancellationRequested ? turn.items.cancelAll() : turn.items.finishAll();
      for (const item of ended) this.emitTool(turn, item);
      this.turns.delete(source);
      if (this.active.get(id) === turn) this.active.delete(id);
      source.dispose();
    }
    const status = own ? await this.refreshUsage(id) : undefined;
    if (!outcome) return undefined;
    const result: TurnOutcome = { ...outcome, planning };
    const plan = outcome.assembler.plans.at(-1);
    if (plan) result.plan = plan;
    const usage = subagentUsage(status?.trajectoryUsage, outcome.assembler.subagents);
    if (usage) result.subagentUsage = usage;
    return result;
  }

  /** A separate agent (e.g. for a language model request); the caller shuts it down. */
  async createSideAgent(name: string): Promise<string> {
    return this.create(this.agentParams(name), true);
  }

  async shutdownAgent(agentId: string): Promise<void> {
    await this.client.shutdownAgent(agentId);
  }

  private async refreshUsage(agentId: string): Promise<Awaited<ReturnType<AgyClient['status']>> | undefined> {
    let status: Awaited<ReturnType<AgyClient['status']>> | undefined;
    try {
      status = await this.client.status(agentId);
      if (agentId !== this.agentId) return status;
      this.state = status.state;
      this.totalUsage = status.totalUsage;
      this.lastUsage = status.lastTurnUsage ?? this.lastUsage;
    } catch {
      // the agent may be gone; keep what we have
    }
    this.render();
    return status;
  }

  /**
   * Change the current agent between turns (agy/configureAgent), or create it with
   * these fields when there is none yet. Throws the server's error (InvalidParams, AgentBusy).
   */
  async configure(fields: Omit<ConfigureAgentParams, 'agentId'>, label: string): Promise<'configured' | 'created' | 'busy'> {
    if (!this.agentId) {
      await this.ensureAgent(fields);
      this.notice(`${label} (new agent)`);
      return 'created';
    }
    if (this.busy) return 'busy';
    const agentId = this.agentId;
    await this.client.configureAgent({ agentId, ...fields });
    this.config = { ...this.config, ...fields };
    this.notice(`${label} (from the next turn)`);
    this.render();
    return 'configured';
  }

  private async reportConfigure(what: 'thinking' | 'policy', label: string, fields: Omit<ConfigureAgentParams, 'agentId'>): Promise<boolean> {
    try {
      const done = await this.configure(fields, label);
      if (done === 'busy') {
        await this.vs.window.showWarningMessage(`agy: ${explainConfigureError(what, { code: -32009 })}`);
        return false;
      }
      void this.vs.window.showInformationMessage(`agy: ${label} (from the next turn).`);
      return true;
    } catch (e) {
      void this.vs.window.showErrorMessage(`agy: ${label}: ${explainConfigureError(what, e)}`);
      return false;
    }
  }

  /** agy.setThinkingLevel: the current agent's thinking level (Gemini and Vertex models), asked for when not given. */
  async setThinkingLevel(level?: string): Promise<boolean> {
    const current = this.config.modelOptions?.thinkingLevel ?? (this.agentId ? undefined : this.settings().thinkingLevel || undefined);
    let chosen = level;
    if (!chosen) {
      const items = THINKING_LEVELS.map((l) => ({ label: l, description: l === current ? 'current' : '', level: l }));
      const picked = await this.vs.window.showQuickPick(items, {
        title: 'agy: thinking level',
        placeHolder: `How much the model thinks before it answers (now: ${current ?? 'the model default'}). Gemini and Vertex models only.`,
      });
      if (!picked) return false;
      chosen = picked.level;
    }
    if (!(THINKING_LEVELS as readonly string[]).includes(chosen)) {
      await this.vs.window.showErrorMessage(`agy: unknown thinking level "${chosen}" (one of ${THINKING_LEVELS.join(', ')}).`);
      return false;
    }
    const base = this.agentId ? this.config.modelOptions : backendTakesModelOptions(this.settings()) ? modelOptionsFor(this.settings()) : undefined;
    const modelOptions: ModelOptions = { ...base, thinkingLevel: chosen as ThinkingLevel };
    return this.reportConfigure('thinking', `thinking level ${chosen}`, { modelOptions });
  }

  /** agy.setPolicy: the current agent's tool policy preset, asked for when not given. */
  async setPolicy(preset?: string): Promise<boolean> {
    const now = typeof this.config.policies === 'string' ? this.config.policies : this.agentId ? undefined : this.settings().policyPreset;
    let chosen = preset;
    if (!chosen) {
      const items = PRESETS.map((p) => ({ label: p, description: p === now ? `${PRESET_HELP[p]} (current)` : PRESET_HELP[p], preset: p }));
      const picked = await this.vs.window.showQuickPick(items, { title: 'agy: tool policy', placeHolder: `Which tool calls may run without asking you (now: ${now ?? 'custom'})` });
      if (!picked) return false;
      chosen = picked.preset;
    }
    if (!(PRESETS as readonly string[]).includes(chosen)) {
      await this.vs.window.showErrorMessage(`agy: unknown policy preset "${chosen}" (one of ${PRESETS.join(', ')}).`);
      return false;
    }
    const policies = policyFor(chosen as PolicyPreset, this.workspaces());
    return this.reportConfigure('policy', `policy ${policies}`, { policies });
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

  /** The @agy chat participant's request handler; `/plan` (the participant's command or typed) asks for a plan. */
  chatHandler(): vscode.ChatRequestHandler {
    return async (request, _context, stream, token) => {
      const writer = new MarkdownTurnWriter((md) => stream.markdown(md));
      const prompt = request.command === 'plan' ? planPrompt(request.prompt) : request.prompt;
      try {
        const outcome = await this.runTurn(prompt, markdownSink(writer, (t) => stream.progress(t)), token);
        if (!outcome) {
          writer.end('_Cancelled._');
          return { metadata: { cancelled: true } };
        }
        const awaitingGo = outcome.planning && outcome.plan !== undefined && outcome.stopReason !== 'cancelled';
        if (awaitingGo) writer.end(`_Review the plan, then **Go ahead** (or reply with changes)._`);
        const usage = usageLine(outcome.usage, outcome.subagentUsage);
        if (usage) writer.end(`_${usage}_`);
        return { metadata: { turnId: outcome.turnId, stopReason: outcome.stopReason, usage: outcome.usage, awaitingGo } };
      } catch (e) {
        return { errorDetails: { message: `agy: ${errorText(e)}` } };
      }
    };
  }

  /** The @agy participant's follow-ups: "Go ahead" after a plan. */
  followups(result: vscode.ChatResult): vscode.ChatFollowup[] {
    const meta = (result.metadata ?? {}) as { awaitingGo?: boolean };
    return meta.awaitingGo ? [{ prompt: GO_AHEAD, label: 'Go ahead' }] : [];
  }
}

/** A TokenSource for turns started outside the Chat API (webview, inline edit). */
export function newTokenSource(): TokenSource {
  return new TokenSource();
}
