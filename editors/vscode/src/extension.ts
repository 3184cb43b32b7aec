// Entry point: the only module that imports `vscode` at runtime. It wires the
// language client, the protocol layer and the glue together.

import * as fs from 'node:fs';
import * as crypto from 'node:crypto';
import * as vscode from 'vscode';
import {
  LanguageClient,
  type LanguageClientOptions,
  type ServerOptions,
  type StaticFeature,
  TransportKind,
} from 'vscode-languageclient/node';
import { AgyClient, type RpcConnection } from './protocol/client';
import { agyClientCapabilities } from './protocol/methods';
import { RESTART_KEYS, initializationOptions, readSettings, resolveServerCommand, type AgySettings } from './protocol/settings';
import { AgentController } from './glue/controller';
import { inlineEdit } from './glue/inlineEdit';
import { chatPanelHandler, chatPanelHtml, type FromWebview } from './glue/webviewChat';
import { ProposedContent } from './glue/vs';

let languageClient: LanguageClient | undefined;
let controller: AgentController | undefined;

function settings(): AgySettings {
  const cfg = vscode.workspace.getConfiguration('agy');
  return readSettings((key) => cfg.get(key));
}

/** Declares capabilities.experimental.agy.confirmToolCall so the server asks us. */
const agyCapabilities: StaticFeature = {
  fillClientCapabilities(capabilities) {
    const existing = (capabilities.experimental ?? {}) as Record<string, unknown>;
    capabilities.experimental = { ...existing, ...agyClientCapabilities().experimental };
  },
  initialize() {
    /* nothing to do */
  },
  getState() {
    return { kind: 'static' };
  },
  clear() {
    /* nothing to do */
  },
};

async function startClient(context: vscode.ExtensionContext, output: vscode.OutputChannel): Promise<LanguageClient> {
  const s = settings();
  const { command, args } = resolveServerCommand(s, context.extensionPath, (p) => fs.existsSync(p));
  const serverOptions: ServerOptions = { command, args, transport: TransportKind.stdio };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [],
    outputChannel: output,
    initializationOptions: initializationOptions(s),
  };
  const client = new LanguageClient('agy', 'agy-lsp', serverOptions, clientOptions);
  client.registerFeature(agyCapabilities);
  await client.start();
  return client;
}

export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel('agy-lsp', { log: true });
  const proposed = new ProposedContent(vscode);
  context.subscriptions.push(output, vscode.workspace.registerTextDocumentContentProvider(ProposedContent.scheme, proposed));

  const start = async (): Promise<AgentController> => {
    languageClient = await startClient(context, output);
    const agy = new AgyClient(languageClient as unknown as RpcConnection);
    controller = new AgentController(vscode, agy, settings, proposed);
    context.subscriptions.push(agy, controller);
    return controller;
  };
  const ready = (): Promise<AgentController> => (controller ? Promise.resolve(controller) : start());
  const guard =
    <A extends unknown[]>(fn: (c: AgentController, ...a: A) => Promise<unknown>) =>
    async (...a: A) => {
      try {
        await fn(await ready(), ...a);
      } catch (e) {
        output.error(String(e));
        void vscode.window.showErrorMessage(`agy: ${e instanceof Error ? e.message : String(e)}`);
      }
    };

  context.subscriptions.push(
    vscode.commands.registerCommand('agy.newAgent', guard((c) => c.newAgent())),
    vscode.commands.registerCommand('agy.cancel', guard((c) => c.cancel())),
    vscode.commands.registerCommand('agy.showHistory', guard((c) => c.showHistory())),
    vscode.commands.registerCommand('agy.resetPermissions', guard((c) => c.resetPermissions())),
    vscode.commands.registerCommand('agy.inlineEdit', guard((c, instruction?: string) => inlineEdit(vscode, c, proposed, instruction))),
    vscode.commands.registerCommand('agy.showLog', () => output.show()),
    vscode.commands.registerCommand(
      'agy.restartServer',
      guard(async () => {
        controller?.dispose();
        controller = undefined;
        await languageClient?.stop();
        languageClient = undefined;
        await start();
      }),
    ),
    vscode.commands.registerCommand(
      'agy.openChat',
      guard((c) => {
        const panel = vscode.window.createWebviewPanel('agy.chat', 'agy chat', vscode.ViewColumn.Beside, {
          enableScripts: true,
          retainContextWhenHidden: true,
        });
        panel.webview.html = chatPanelHtml(panel.webview, crypto.randomBytes(16).toString('hex'));
        const handle = chatPanelHandler(c, (m) => panel.webview.postMessage(m));
        panel.webview.onDidReceiveMessage((m: FromWebview) => void handle(m), undefined, context.subscriptions);
        return Promise.resolve();
      }),
    ),
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      if (!e.affectsConfiguration('agy') || !languageClient) return;
      if (RESTART_KEYS.some((k) => e.affectsConfiguration(k))) {
        const pick = await vscode.window.showInformationMessage('agy: restart the server to use the new command?', 'Restart');
        if (pick) await vscode.commands.executeCommand('agy.restartServer');
        return;
      }
      await languageClient.sendNotification('workspace/didChangeConfiguration', {
        settings: { agy: initializationOptions(settings()) },
      });
      controller?.render();
    }),
  );

  // Chat: the @agy participant where the Chat API exists, else the webview panel.
  const chatApi = (vscode as { chat?: typeof vscode.chat }).chat;
  if (chatApi?.createChatParticipant) {
    const participant = chatApi.createChatParticipant('agy.chat', async (request, ctx, stream, token) => {
      return (await ready()).chatHandler()(request, ctx, stream, token);
    });
    participant.iconPath = new vscode.ThemeIcon('hubot');
    context.subscriptions.push(participant);
  } else {
    void vscode.window.setStatusBarMessage('agy: Chat API not available; use "agy: Open Chat Panel".', 10_000);
  }
}

export async function deactivate(): Promise<void> {
  controller?.dispose();
  controller = undefined;
  await languageClient?.stop();
  languageClient = undefined;
}
