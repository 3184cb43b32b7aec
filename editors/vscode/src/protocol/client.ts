// The agy/* request layer over any JSON-RPC connection (vscode-jsonrpc's
// MessageConnection in tests, vscode-languageclient's LanguageClient in the
// extension). No `vscode` import here.

import { TurnAssembler, type TurnEvent } from './chunks';
import { Method } from './methods';
import type {
  AgentStateNotice,
  AgentSummary,
  ChatChunk,
  ChatResult,
  ConfigureAgentParams,
  ConfirmToolCallParams,
  ConfirmToolCallResult,
  CreateAgentParams,
  CreateAgentResult,
  HistoryResult,
  Prompt,
  QuotaNotice,
  RunToolParams,
  RunToolResult,
  ServerInfoResult,
  StatusResult,
  UsageResult,
} from './types';

export interface Disposable {
  dispose(): void;
}

export interface CancellationToken {
  readonly isCancellationRequested: boolean;
  onCancellationRequested(listener: () => void): Disposable;
}

/** The slice of a JSON-RPC connection this layer needs. */
export interface RpcConnection {
  sendRequest<R>(method: string, params: unknown, token?: CancellationToken): Promise<R>;
  sendNotification(method: string, params: unknown): Promise<void> | void;
  onNotification(method: string, handler: (params: never) => void): Disposable;
  onRequest(method: string, handler: (params: never, token: CancellationToken) => unknown): Disposable;
}

export type ConfirmHandler = (params: ConfirmToolCallParams, token: CancellationToken) => Promise<string>;
export type ToolHandler = (params: RunToolParams, token: CancellationToken) => Promise<RunToolResult>;

export interface ChatOptions {
  token?: CancellationToken;
  onEvent?: (event: TurnEvent) => void;
}

export interface ChatOutcome extends ChatResult {
  /** Text assembled from the streamed chunks (equals `text` in a normal turn). */
  streamedText: string;
  assembler: TurnAssembler;
}

/**
 * Typed agy/* requests plus dispatch of the server's notifications and requests.
 * One handler per method is registered on the connection; listeners fan out here.
 */
export class AgyClient implements Disposable {
  private readonly chunkListeners = new Map<string, Set<(chunk: ChatChunk) => void>>();
  private readonly stateListeners = new Set<(notice: AgentStateNotice) => void>();
  private readonly quotaListeners = new Set<(notice: QuotaNotice) => void>();
  private confirmHandler: ConfirmHandler | undefined;
  private toolHandler: ToolHandler | undefined;
  private readonly registrations: Disposable[] = [];

  constructor(private readonly conn: RpcConnection) {
    this.registrations.push(
      conn.onNotification(Method.chatChunk, (chunk: ChatChunk) => {
        for (const listener of this.chunkListeners.get(chunk.agentId) ?? []) listener(chunk);
      }),
      conn.onNotification(Method.agentState, (notice: AgentStateNotice) => {
        for (const listener of this.stateListeners) listener(notice);
      }),
      conn.onNotification(Method.quota, (notice: QuotaNotice) => {
        for (const listener of this.quotaListeners) listener(notice);
      }),
      conn.onRequest(Method.confirmToolCall, async (params: ConfirmToolCallParams, token: CancellationToken) => {
        return this.answerConfirm(params, token);
      }),
      conn.onRequest(Method.runTool, async (params: RunToolParams, token: CancellationToken) => {
        return this.answerRunTool(params, token);
      }),
    );
  }

  dispose(): void {
    for (const r of this.registrations) r.dispose();
    this.registrations.length = 0;
  }

  setConfirmHandler(handler: ConfirmHandler | undefined): void {
    this.confirmHandler = handler;
  }

  setToolHandler(handler: ToolHandler | undefined): void {
    this.toolHandler = handler;
  }

  onAgentState(listener: (notice: AgentStateNotice) => void): Disposable {
    this.stateListeners.add(listener);
    return { dispose: () => this.stateListeners.delete(listener) };
  }

  onQuota(listener: (notice: QuotaNotice) => void): Disposable {
    this.quotaListeners.add(listener);
    return { dispose: () => this.quotaListeners.delete(listener) };
  }

  onChunk(agentId: string, listener: (chunk: ChatChunk) => void): Disposable {
    let set = this.chunkListeners.get(agentId);
    if (!set) {
      set = new Set();
      this.chunkListeners.set(agentId, set);
    }
    set.add(listener);
    return {
      dispose: () => {
        set.delete(listener);
        if (set.size === 0) this.chunkListeners.delete(agentId);
      },
    };
  }

  /** Answer agy/confirmToolCall; fails closed ("cancelled") when no handler or it throws. */
  async answerConfirm(params: ConfirmToolCallParams, token: CancellationToken): Promise<ConfirmToolCallResult> {
    if (!this.confirmHandler) return { outcome: 'cancelled' };
    try {
      return { outcome: await this.confirmHandler(params, token) };
    } catch {
      return { outcome: 'cancelled' };
    }
  }

  /** Answer agy/runTool; errors become {error} so the model sees why. */
  async answerRunTool(params: RunToolParams, token: CancellationToken): Promise<RunToolResult> {
    if (!this.toolHandler) return { error: `no editor tool handler for ${params.toolCall.name}` };
    try {
      return await this.toolHandler(params, token);
    } catch (e) {
      return { error: e instanceof Error ? e.message : String(e) };
    }
  }

  createAgent(params: CreateAgentParams): Promise<CreateAgentResult> {
    return this.conn.sendRequest<CreateAgentResult>(Method.createAgent, params);
  }

  /** agy/configureAgent: the fields given replace the agent's from its next turn (AgentBusy during a turn). */
  configureAgent(params: ConfigureAgentParams): Promise<{ ok: boolean }> {
    return this.conn.sendRequest(Method.configureAgent, params);
  }

  /**
   * agy/chat: streams chunks to `onEvent` while the request is pending. Cancelling
   * `token` sends $/cancelRequest; the promise then rejects with code -32800.
   */
  async chat(agentId: string, prompt: Prompt, options: ChatOptions = {}): Promise<ChatOutcome> {
    const assembler = new TurnAssembler();
    const emit = (events: TurnEvent[]): void => {
      for (const e of events) options.onEvent?.(e);
    };
    const sub = this.onChunk(agentId, (chunk) => emit(assembler.push(chunk)));
    try {
      const params = { agentId, prompt };
      // Never pass an undefined token: vscode-jsonrpc would send [params, null].
      const result = options.token
        ? await this.conn.sendRequest<ChatResult>(Method.chat, params, options.token)
        : await this.conn.sendRequest<ChatResult>(Method.chat, params);
      emit(assembler.flush());
      return { ...result, streamedText: assembler.text, assembler };
    } finally {
      sub.dispose();
    }
  }

  cancel(agentId: string): Promise<{ cancelled: boolean }> {
    return this.conn.sendRequest(Method.cancel, { agentId });
  }

  status(agentId: string): Promise<StatusResult> {
    return this.conn.sendRequest(Method.status, { agentId });
  }

  history(agentId: string, offset = 0, limit?: number): Promise<HistoryResult> {
    return this.conn.sendRequest(Method.history, limit === undefined ? { agentId, offset } : { agentId, offset, limit });
  }

  usage(agentId: string): Promise<UsageResult> {
    return this.conn.sendRequest(Method.usage, { agentId });
  }

  resetPermissions(agentId: string, tool?: string): Promise<{ ok: boolean }> {
    return this.conn.sendRequest(Method.resetPermissions, tool === undefined ? { agentId } : { agentId, tool });
  }

  async listAgents(): Promise<AgentSummary[]> {
    return (await this.conn.sendRequest<{ agents: AgentSummary[] }>(Method.listAgents, {})).agents;
  }

  shutdownAgent(agentId: string): Promise<{ ok: boolean }> {
    return this.conn.sendRequest(Method.shutdownAgent, { agentId });
  }

  serverInfo(): Promise<ServerInfoResult> {
    return this.conn.sendRequest(Method.serverInfo, {});
  }

  /** workspace/didChangeConfiguration with already-mapped server settings. */
  async changeConfiguration(settings: Record<string, unknown>): Promise<void> {
    await this.conn.sendNotification('workspace/didChangeConfiguration', { settings: { agy: settings } });
  }
}
