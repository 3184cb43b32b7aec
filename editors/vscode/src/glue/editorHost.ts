// EditorHost over the VS Code API: what agy/runTool editor tools read.

import type * as vscode from 'vscode';
import type { DiagnosticInfo, EditorHost } from '../protocol/editorTools';
import type { VsApi } from './vs';

const SEVERITY: DiagnosticInfo['severity'][] = ['error', 'warning', 'information', 'hint'];

function diag(uri: vscode.Uri, d: vscode.Diagnostic): DiagnosticInfo {
  const info: DiagnosticInfo = {
    uri: uri.toString(),
    severity: SEVERITY[d.severity] ?? 'error',
    message: d.message,
    start: { line: d.range.start.line, character: d.range.start.character },
    end: { line: d.range.end.line, character: d.range.end.character },
  };
  if (d.source) info.source = d.source;
  return info;
}

export function vsEditorHost(vs: VsApi): EditorHost {
  return {
    activeDocument() {
      const editor = vs.window.activeTextEditor;
      if (!editor) return undefined;
      const doc = editor.document;
      return { uri: doc.uri.toString(), languageId: doc.languageId, text: doc.getText() };
    },
    selection() {
      const editor = vs.window.activeTextEditor;
      if (!editor) return undefined;
      const sel = editor.selection;
      return {
        uri: editor.document.uri.toString(),
        text: editor.document.getText(sel),
        start: { line: sel.start.line, character: sel.start.character },
        end: { line: sel.end.line, character: sel.end.character },
      };
    },
    diagnostics(uri) {
      if (uri) {
        const u = vs.Uri.parse(uri);
        return vs.languages.getDiagnostics(u).map((d) => diag(u, d));
      }
      return vs.languages.getDiagnostics().flatMap(([u, ds]) => ds.map((d) => diag(u, d)));
    },
  };
}
