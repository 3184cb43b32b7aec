// Wire types for agy/* payloads (mirrors agy_lsp/protocol/types.py; camelCase on the wire).
// This module must not import `vscode`.

export type AgentState = 'starting' | 'idle' | 'busy' | 'restarting' | 'failed' | 'closed' | 'hibernated';
export type ChunkKind = 'text' | 'thought' | 'toolCall' | 'toolResult' | 'compaction' | 'plan' | 'retry';
export type PolicyPreset = 'safeDefaults' | 'confirmRunCommand' | 'allowAll' | 'denyAll' | 'workspaceOnly' | 'auto';
/** How a tool call ended: it ran (`completed`, `failed`) or it never ran (`denied`, `cancelled`). */
export type ToolOutcome = 'completed' | 'failed' | 'denied' | 'cancelled';
export type ThinkingLevel = 'minimal' | 'low' | 'medium' | 'high' | 'extra_high';
export type ServiceTier = 'standard' | 'priority' | 'flex';
export type AgentBehavior = 'autonomous' | 'interactive' | 'minimal';
export type PermissionKind = 'allow_once' | 'allow_always' | 'reject_once' | 'reject_always';

export type Backend =
  | { type: 'openai'; baseUrl?: string; model?: string; apiKey?: string }
  | { type: 'gemini'; model?: string; apiKey?: string }
  | { type: 'vertex'; model?: string; project?: string; location?: string; apiKey?: string }
  | { type: 'scripted'; script?: unknown };

// `id` is the call's one id: the same in agy/confirmToolCall, agy/runTool, the toolCall
// and toolResult chunks, agy/hook and agy/history. `callId` is the model's own id for
// the call, sent only when it differs from `id` (docs/protocol.md, "Tool call ids").
// Names are the model's (`write_to_file`, not the SDK's `create_file`). A call that never
// ran has `outcome` denied or cancelled, the reason in `error` and no `result`.
export interface ToolCall {
  id?: string;
  name: string;
  args?: Record<string, unknown>;
  callId?: string;
  /** In history only: how the call ended. */
  outcome?: ToolOutcome;
}

export interface ToolResult {
  id?: string;
  name?: string;
  /** What the tool returned (for a built-in: the text the model got back). */
  result?: unknown;
  error?: string | null;
  callId?: string;
  outcome?: ToolOutcome;
}

export interface Usage {
  promptTokens?: number;
  cachedTokens?: number;
  candidatesTokens?: number;
  thoughtsTokens?: number;
  totalTokens?: number;
}

export interface EditorTool {
  name: string;
  description?: string;
  parameters?: Record<string, unknown>;
  timeoutSecs?: number;
}

export interface PolicyRule {
  tool?: string;
  decision?: 'allow' | 'deny' | 'ask_user';
  when?: { arg: string; pattern: string }[];
  reason?: string;
}

export type Policies = PolicyPreset | PolicyRule[] | { preset?: PolicyPreset; rules?: PolicyRule[] };

/** The SDK's GeminiModelOptions (Gemini and Vertex models only). */
export interface ModelOptions {
  thinkingLevel?: ThinkingLevel;
  serviceTier?: ServiceTier;
  maxOutputTokens?: number;
}

export interface Capabilities {
  enabledTools?: string[];
  disabledTools?: string[];
  agentBehavior?: AgentBehavior;
}

export interface CreateAgentParams {
  backend?: Backend;
  name?: string;
  systemInstructions?: string;
  workspaces?: string[];
  conversationId?: string;
  chatTimeoutSecs?: number;
  policies?: Policies;
  tools?: EditorTool[];
  modelOptions?: ModelOptions;
  capabilities?: Capabilities;
  /** Summarise older history past this many tokens (a `compaction` chunk says so). */
  compaction?: { tokenThreshold?: number };
}

/** agy/configureAgent: the fields given replace the agent's from its next turn on. */
export interface ConfigureAgentParams {
  agentId: string;
  backend?: Backend;
  policies?: Policies;
  capabilities?: Capabilities;
  modelOptions?: ModelOptions;
}

export interface CreateAgentResult {
  agentId: string;
  conversationId: string | null;
  tools: string[];
}

export type Prompt = string | { type: 'text' | 'image' | 'document' | 'command'; text?: string; data?: string; mimeType?: string }[];

export interface ChatResult {
  turnId: string;
  text: string;
  stopReason: string;
  usage: Usage | null;
  structuredOutput?: unknown;
}

export interface PlanEntry {
  content: string;
  status: 'pending' | 'in_progress' | 'completed';
}

/** The agent's plan (implementation_plan.md or task.md) as a `plan` chunk carries it. */
export interface Plan {
  path: string;
  markdown: string;
  entries: PlanEntry[];
}

export interface ChatChunk {
  agentId: string;
  turnId: string;
  seq: number;
  kind: ChunkKind;
  text?: string;
  toolCall?: ToolCall;
  toolResult?: ToolResult;
  plan?: Plan;
  /** kind `retry`: the harness retries a failed model request (attempt 2 is the first retry). */
  retry?: { attempt: number; reason: string; nextInSecs?: number };
  /** The streamed step the chunk came from. */
  stepId?: string;
  /** A subagent's work: its trajectory, the delegating one, and how deep (1 = the agent's subagent). */
  trajectoryId?: string;
  parentTrajectoryId?: string;
  depth?: number;
  /** The invoke_subagent call that started the subagent (set from its first chunk on). */
  parentCallId?: string;
}

export interface Permission {
  tool: string;
  decision: 'allow' | 'deny';
}

export interface StatusResult {
  agentId: string;
  name: string | null;
  state: AgentState;
  idle: boolean;
  turnCount: number;
  conversationId: string | null;
  lastResponse: string;
  compactionIndices: number[];
  totalUsage: Usage;
  lastTurnUsage: Usage | null;
  permissions: Permission[];
  /** Whether run_command runs in the OS sandbox. */
  sandbox?: { available: boolean; reason?: string | null } | null;
  trajectoryUsage?: { trajectoryId: string; usage: Usage }[];
  /** The createAgent fields the agent runs with now (after agy/configureAgent). */
  spec?: Partial<CreateAgentParams> & Record<string, unknown>;
}

export interface Step {
  id?: string;
  index?: number;
  type?: string;
  source?: string;
  target?: string;
  status?: string;
  content?: string;
  thinking?: string;
  toolCalls?: ToolCall[];
  error?: string;
  usage?: Usage;
}

export interface HistoryResult {
  steps: Step[];
  total: number;
}

export interface UsageResult {
  totalUsage: Usage;
  lastTurnUsage: Usage | null;
}

export interface AgentSummary {
  agentId: string;
  name: string | null;
  state: AgentState;
  conversationId: string | null;
  turnCount: number;
}

export interface ServerInfoResult {
  name: string;
  version: string;
  sdkVersion: string | null;
  defaultBackend: string;
  stateDir: string;
}

export interface AgentStateNotice {
  agentId: string;
  state: AgentState;
  reason?: string;
}

export interface QuotaNotice {
  key: string;
  state: 'backoff' | 'clear';
  retryAfterMs?: number;
}

export interface PermissionOption {
  optionId: string;
  kind: PermissionKind;
  name: string;
}

export interface ConfirmToolCallParams {
  agentId: string;
  turnId: string;
  toolCall: ToolCall;
  options: PermissionOption[];
  reason?: string;
}

export interface ConfirmToolCallResult {
  outcome: string;
}

export interface RunToolParams {
  agentId: string;
  turnId: string;
  toolCall: ToolCall;
  state?: Record<string, unknown>;
}

export interface RunToolResult {
  content?: unknown;
  error?: string;
  state?: Record<string, unknown>;
}
