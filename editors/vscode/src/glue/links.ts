// Links clicked in the chat panel: web links open outside, file links (absolute,
// or relative to a workspace folder, with an optional line) open in the editor.

import * as path from 'node:path';
import { parseLink } from '../protocol/toolItems';
import type { VsApi } from './vs';

export async function openLink(vs: VsApi, href: string): Promise<boolean> {
  const target = parseLink(href);
  if (target.kind === 'external') return vs.env.openExternal(vs.Uri.parse(target.url));
  if (target.kind !== 'file') return false;
  const folders = (vs.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
  const candidates = path.isAbsolute(target.path) ? [target.path] : folders.map((f) => path.join(f, target.path));
  for (const candidate of candidates) {
    const uri = vs.Uri.file(candidate);
    try {
      await vs.workspace.fs.stat(uri);
    } catch {
      continue;
    }
    const line = Math.max(0, (target.line ?? 1) - 1);
    const pos = new vs.Position(line, Math.max(0, (target.column ?? 1) - 1));
    await vs.window.showTextDocument(uri, { selection: new vs.Range(pos, pos), preview: true });
    return true;
  }
  await vs.window.showWarningMessage(`agy: ${target.path} is not in the workspace.`);
  return false;
}
