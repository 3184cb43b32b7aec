// VS Code `agy.*` settings -> server initializationOptions / createAgent params.
// No `vscode` import here: the glue reads the configuration into `AgySettings`.

import type { Backend, CreateAgentParams, EditorTool, PolicyPreset } from './types';

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
};

const BACKENDS: readonly BackendChoice[] = ['auto', 'gemini', 'vertex', 'openai', 'scripted'];
const PRESETS: readonly PolicyPreset[] = ['safeDefaults', 'confirmRunCommand', 'allowAll', 'denyAll', 'workspaceOnly'];

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
  };
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
    policies: s.policyPreset === 'workspaceOnly' && workspaces.length === 0 ? 'safeDefaults' : s.policyPreset,
    tools,
  };
  if (name) params.name = name;
  return params;
}

/** Settings whose change needs a server restart rather than didChangeConfiguration. */
export const RESTART_KEYS = ['agy.server.command', 'agy.server.args'] as const;
