// VS Code `agy.*` settings -> server initializationOptions / createAgent params.
// No `vscode` import here: the glue reads the configuration into `AgySettings`.

import type {
  AgentBehavior,
  Backend,
  Capabilities,
  CreateAgentParams,
  EditorTool,
  ModelOptions,
  PolicyPreset,
  ServiceTier,
  ThinkingLevel,
} from './types';

export type BackendChoice = 'auto' | 'gemini' | 'vertex' | 'openai' | 'scripted';
export type ConfirmationStyle = 'quickPick' | 'modal';

export interface AgySettings {
  serverCommand: string;
  serverArgs: string[];
  backend: BackendChoice;
  model: string;
  baseUrl: string;
  policyPreset: PolicyPreset;
  chatTimeoutSecs: number;
  confirmationStyle: ConfirmationStyle;
  /** '' = the model's default. Gemini and Vertex models only. */
  thinkingLevel: ThinkingLevel | '';
  serviceTier: ServiceTier | '';
  /** 0 = the model's default. */
  maxOutputTokens: number;
  agentBehavior: AgentBehavior;
}

export const DEFAULT_SETTINGS: AgySettings = {
  serverCommand: '',
  serverArgs: [],
  backend: 'auto',
  model: '',
  baseUrl: 'http://127.0.0.1:11434/v1',
  policyPreset: 'safeDefaults',
  chatTimeoutSecs: 120,
  confirmationStyle: 'quickPick',
  thinkingLevel: '',
  serviceTier: '',
  maxOutputTokens: 0,
  agentBehavior: 'autonomous',
};

const BACKENDS: readonly BackendChoice[] = ['auto', 'gemini', 'vertex', 'openai', 'scripted'];
export const PRESETS: readonly PolicyPreset[] = ['safeDefaults', 'confirmRunCommand', 'allowAll', 'denyAll', 'workspaceOnly', 'auto'];
export const THINKING_LEVELS: readonly ThinkingLevel[] = ['minimal', 'low', 'medium', 'high', 'extra_high'];
const SERVICE_TIERS: readonly ServiceTier[] = ['standard', 'priority', 'flex'];
const BEHAVIORS: readonly AgentBehavior[] = ['autonomous', 'interactive', 'minimal'];

/** What each policy preset does, in a person's words (the QuickPick of agy.setPolicy, the settings). */
export const PRESET_HELP: Record<PolicyPreset, string> = {
  safeDefaults: 'reading is allowed; anything else asks you',
  confirmRunCommand: 'everything runs; run_command asks you',
  allowAll: 'every tool runs without asking',
  denyAll: 'no tool runs',
  workspaceOnly: 'file tools only in the open folders; the rest as safeDefaults',
  auto: 'a safety model approves routine calls and asks you about the rest',
};

function oneOf<T extends string>(list: readonly T[], value: unknown, fallback: T): T {
  return typeof value === 'string' && (list as readonly string[]).includes(value) ? (value as T) : fallback;
}

/** Read settings through a `get(key)` accessor (VS Code's WorkspaceConfiguration fits), validating each. */
export function readSettings(get: (key: string) => unknown): AgySettings {
  const str = (key: string, fallback: string): string => {
    const v = get(key);
    return typeof v === 'string' ? v : fallback;
  };
  const backend = str('backend', DEFAULT_SETTINGS.backend);
  const preset = str('policies.preset', DEFAULT_SETTINGS.policyPreset);
  const timeout = get('chatTimeoutSecs');
  const args = get('server.args');
  const style = str('confirmation.style', DEFAULT_SETTINGS.confirmationStyle);
  const maxOut = get('maxOutputTokens');
  return {
    serverCommand: str('server.command', '').trim(),
    serverArgs: Array.isArray(args) ? args.filter((a): a is string => typeof a === 'string') : [],
    backend: (BACKENDS as readonly string[]).includes(backend) ? (backend as BackendChoice) : 'auto',
    model: str('model', '').trim(),
    baseUrl: str('baseUrl', DEFAULT_SETTINGS.baseUrl).trim(),
    policyPreset: (PRESETS as readonly string[]).includes(preset) ? (preset as PolicyPreset) : 'safeDefaults',
    chatTimeoutSecs:
      typeof timeout === 'number' && Number.isFinite(timeout) && timeout > 0 ? timeout : DEFAULT_SETTINGS.chatTimeoutSecs,
    confirmationStyle: style === 'modal' ? 'modal' : 'quickPick',
    thinkingLevel: oneOf<ThinkingLevel | ''>(THINKING_LEVELS, get('thinkingLevel'), ''),
    serviceTier: oneOf<ServiceTier | ''>(SERVICE_TIERS, get('serviceTier'), ''),
    maxOutputTokens: typeof maxOut === 'number' && Number.isInteger(maxOut) && maxOut > 0 ? maxOut : 0,
    agentBehavior: oneOf(BEHAVIORS, get('agentBehavior'), DEFAULT_SETTINGS.agentBehavior),
  };
}

/** The model options the settings ask for, or undefined when they leave everything to the model. */
export function modelOptionsFor(s: AgySettings): ModelOptions | undefined {
  const options: ModelOptions = {};
  if (s.thinkingLevel) options.thinkingLevel = s.thinkingLevel;
  if (s.serviceTier) options.serviceTier = s.serviceTier;
  if (s.maxOutputTokens > 0) options.maxOutputTokens = s.maxOutputTokens;
  return Object.keys(options).length ? options : undefined;
}

/** Model options are for Gemini and Vertex; an OpenAI-compatible endpoint (and the scripted model) has none. */
export function backendTakesModelOptions(s: AgySettings): boolean {
  return s.backend === 'auto' || s.backend === 'gemini' || s.backend === 'vertex';
}

/** The backend object for the server, or null for "let the server decide". */
export function backendFor(s: AgySettings): Backend | null {
  const model = s.model || undefined;
  switch (s.backend) {
    case 'openai':
      return { type: 'openai', baseUrl: s.baseUrl || DEFAULT_SETTINGS.baseUrl, model: s.model };
    case 'gemini':
      return model ? { type: 'gemini', model } : { type: 'gemini' };
    case 'vertex':
      return model ? { type: 'vertex', model } : { type: 'vertex' };
    case 'scripted':
      return { type: 'scripted' };
    default:
      return null;
  }
}

/**
 * initializationOptions (and the didChangeConfiguration payload): the server's
 * Settings fields. `backend: null` resets a previously chosen backend to "auto".
 */
export function initializationOptions(s: AgySettings): Record<string, unknown> {
  return { backend: backendFor(s), chatTimeoutSecs: s.chatTimeoutSecs };
}

/** createAgent params for a new agent in the given workspace folders. */
export function createAgentParams(
  s: AgySettings,
  workspaces: string[],
  tools: EditorTool[],
  name?: string,
): CreateAgentParams {
  const params: CreateAgentParams = {
    workspaces,
    chatTimeoutSecs: s.chatTimeoutSecs,
    policies: policyFor(s.policyPreset, workspaces),
    tools,
  };
  if (name) params.name = name;
  const options = backendTakesModelOptions(s) ? modelOptionsFor(s) : undefined;
  if (options) params.modelOptions = options;
  if (s.agentBehavior !== DEFAULT_SETTINGS.agentBehavior) params.capabilities = { agentBehavior: s.agentBehavior };
  return params;
}

/** A preset for an agent in these folders: workspaceOnly needs a folder, else it is safeDefaults. */
export function policyFor(preset: PolicyPreset, workspaces: string[]): PolicyPreset {
  return preset === 'workspaceOnly' && workspaces.length === 0 ? 'safeDefaults' : preset;
}

/** The capabilities with the agent made interactive (plan mode needs it). */
export function interactive(capabilities: Capabilities | undefined): Capabilities {
  return { ...capabilities, agentBehavior: 'interactive' };
}

/** Settings whose change needs a server restart rather than didChangeConfiguration. */
export const RESTART_KEYS = ['agy.server.command', 'agy.server.args'] as const;
