// Editor tools served over agy/runTool: definitions and dispatch over an
// abstract editor host. No `vscode` import here.

import type { EditorTool, RunToolParams, RunToolResult } from './types';

export interface Position {
  line: number;
  character: number;
}

export interface DiagnosticInfo {
  uri: string;
  severity: 'error' | 'warning' | 'information' | 'hint';
  message: string;
  source?: string;
  start: Position;
  end: Position;
}

/** What the editor can tell the agent; the glue implements it over the VS Code API. */
export interface EditorHost {
  activeDocument(): { uri: string; languageId: string; text: string } | undefined;
  selection(): { uri: string; text: string; start: Position; end: Position } | undefined;
  diagnostics(uri?: string): DiagnosticInfo[];
}

export const EDITOR_TOOLS: EditorTool[] = [
  {
    name: 'editor_active_text',
    description: "The full text of the file open in the person's active editor, with its URI and language.",
    parameters: { type: 'object', properties: {} },
  },
  {
    name: 'editor_selection',
    description: "The text the person selected in the active editor, with its URI and range (0-based lines).",
    parameters: { type: 'object', properties: {} },
  },
  {
    name: 'editor_diagnostics',
    description:
      'Errors and warnings the editor shows (compiler, linter). Optionally only those of one file URI; default: the whole workspace.',
    parameters: {
      type: 'object',
      properties: { uri: { type: 'string', description: 'A file URI to restrict the diagnostics to.' } },
    },
  },
];

const MAX_DIAGNOSTICS = 200;

export function runEditorTool(host: EditorHost, params: RunToolParams): RunToolResult {
  const args = params.toolCall.args ?? {};
  switch (params.toolCall.name) {
    case 'editor_active_text': {
      const doc = host.activeDocument();
      return doc ? { content: doc } : { error: 'no active editor' };
    }
    case 'editor_selection': {
      const sel = host.selection();
      return sel ? { content: sel } : { error: 'no active editor' };
    }
    case 'editor_diagnostics': {
      const uri = typeof args.uri === 'string' && args.uri ? args.uri : undefined;
      const all = host.diagnostics(uri);
      return {
        content: { diagnostics: all.slice(0, MAX_DIAGNOSTICS), total: all.length, truncated: all.length > MAX_DIAGNOSTICS },
      };
    }
    default:
      return { error: `unknown editor tool ${params.toolCall.name}` };
  }
}
