// Entry point: wires the server manager, the protocol layer, the glue, the chat
// participant, the language model provider and the chat panel together.

import * as crypto from 'node:crypto';
import * as vscode from 'vscode';
import { State } from 'vscode-languageclient/node';
import { AgentController } from './glue/controller';
import { chatPanelHandler, chatPanelHtml, type FromWebview, type PanelHandler } from './glue/chatPanel';
import { inlineEdit } from './glue/inlineEdit';
import { openLink } from './glue/links';
import { AgyLanguageModelProvider, LM_VENDOR } from './glue/lmProvider';
import { ProposedContent } from './glue/vs';
import { AgyClient, type RpcConnection } from './protocol/client';
import { errorText } from './protocol/methods';
import { planPrompt } from './protocol/plan';
import { RESTART_KEYS, initializationOptions, readSettings, type AgySettings } from './protocol/settings';
import { ServerManager, StartError } from './server';

let manager: ServerManager | undefined;
let controller: AgentController | undefined;

function settings(): AgySettings {
  const cfg = vscode.workspace.getConfiguration('agy');
  return readSettings((key) => cfg.get(key));
}

export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel('agy-lsp', { log: true });
  const proposed = new ProposedContent(vscode);
  const servers = new ServerManager(context, output, settings);
  manager = servers;
  // Shown only while the server is not running, with the cause; a click opens the log.
  const serverItem = vscode.window.createStatusBarItem('agy.server', vscode.StatusBarAlignment.Right, 99);
  serverItem.name = 'agy server';
  serverItem.command = 'agy.showLog';
  context.subscriptions.push(output, servers, serverItem, vscode.workspace.registerTextDocumentContentProvider(ProposedContent.scheme, proposed));

  servers.onStarted = (client) => {
    serverItem.hide();
    controller?.dispose();
    const agy = new AgyClient(client as unknown as RpcConnection);
    const c = new AgentController(vscode, agy, settings, proposed, { log: (line) => output.info(line) });
    controller = c;
    // A restarted server has none of the old agents.
    client.onDidChangeState((e) => {
      if (e.newState === State.Running && e.oldState !== State.Running) c.forgetAgent();
    });
  };
  servers.onStopped = (reason) => {
    controller?.dispose();
    controller = undefined;
    serverItem.text = '$(error) agy: server stopped';
    serverItem.tooltip = `${reason}\nClick for the agy-lsp log.`;
    serverItem.show();
  };

  const ready = async (): Promise<AgentController> => {
    await servers.ensure();
    if (!controller) throw new StartError('agy-lsp is not running.', ['Restart Server', 'Show Log']);
    return controller;
  };
  const report = (e: unknown): void => {
    if (e instanceof StartError) void servers.notify(e.message, e.actions);
    else void servers.notify(e instanceof Error ? e.message : String(e));
  };
  const guard =
    <A extends unknown[]>(fn: (c: AgentController, ...a: A) => Promise<unknown>) =>
    async (...a: A) => {
      try {
        await fn(await ready(), ...a);
      } catch (e) {
        report(e);
      }
    };

  // The chat panel, with a way to send it a prompt as if typed there (agy.plan, agy.goAhead).
  let panel: { view: vscode.WebviewPanel; ready: Promise<void>; deliver: (m: FromWebview) => Promise<void> } | undefined;
  const openPanel = (): NonNullable<typeof panel> => {
    if (panel) {
      panel.view.reveal();
      return panel;
    }
    const roots = [vscode.Uri.joinPath(context.extensionUri, 'dist'), vscode.Uri.joinPath(context.extensionUri, 'media')];
    const p = vscode.window.createWebviewPanel('agy.chat', 'agy chat', vscode.ViewColumn.Beside, {
      enableScripts: true,
      retainContextWhenHidden: true,
      localResourceRoots: roots,
    });
    const uri = (...parts: string[]) => p.webview.asWebviewUri(vscode.Uri.joinPath(context.extensionUri, ...parts)).toString();
    p.webview.html = chatPanelHtml(p.webview, crypto.randomBytes(16).toString('hex'), uri('dist', 'webview.js'), uri('media', 'chat.css'));
    const host = { copy: (text: string) => vscode.env.clipboard.writeText(text), open: (href: string) => openLink(vscode, href) };
    const post = (msg: unknown): Thenable<boolean> => p.webview.postMessage(msg);
    // A server restart replaces the controller: bind the handler to the current one.
    let owner: AgentController | undefined;
    let live: PanelHandler | undefined;
    const deliver = async (m: FromWebview): Promise<void> => {
      const current = await ready();
      if (current !== owner || !live) {
        live?.dispose();
        owner = current;
        live = chatPanelHandler(current, post, host);
      }
      return live(m);
    };
    let loaded!: () => void;
    const entry = { view: p, ready: new Promise<void>((r) => (loaded = r)), deliver };
    panel = entry;
    p.webview.onDidReceiveMessage(
      (m: FromWebview) => {
        if (m.type === 'ready') loaded();
        deliver(m).catch(report);
      },
      undefined,
      context.subscriptions,
    );
    p.onDidDispose(
      () => {
        live?.dispose();
        if (panel === entry) panel = undefined;
      },
      undefined,
      context.subscriptions,
    );
    return entry;
  };
  /** Send a prompt to the chat panel (opened first), as if typed there. */
  const sendToPanel = async (m: FromWebview): Promise<void> => {
    const p = openPanel();
    await p.ready;
    void p.deliver(m).catch(report);
  };

  context.subscriptions.push(
    vscode.commands.registerCommand('agy.newAgent', guard((c) => c.newAgent())),
    vscode.commands.registerCommand('agy.cancel', guard((c) => c.cancel())),
    vscode.commands.registerCommand('agy.showHistory', guard((c) => c.showHistory())),
    vscode.commands.registerCommand('agy.resetPermissions', guard((c) => c.resetPermissions())),
    vscode.commands.registerCommand('agy.inlineEdit', guard((c, instruction?: string) => inlineEdit(vscode, c, proposed, instruction))),
    vscode.commands.registerCommand('agy.openChat', guard(() => Promise.resolve(openPanel()))),
    vscode.commands.registerCommand('agy.setThinkingLevel', guard((c, level?: string) => c.setThinkingLevel(level))),
    vscode.commands.registerCommand('agy.setPolicy', guard((c, preset?: string) => c.setPolicy(preset))),
    vscode.commands.registerCommand(
      'agy.plan',
      guard(async (_c, request?: string) => {
        const text =
          request ??
          (await vscode.window.showInputBox({
            title: 'agy: plan first',
            prompt: 'What should the agent plan? It writes a plan, then waits for your go-ahead.',
            ignoreFocusOut: true,
          }));
        if (text?.trim()) await sendToPanel({ type: 'prompt', text: planPrompt(text) });
      }),
    ),
    vscode.commands.registerCommand('agy.goAhead', guard(() => sendToPanel({ type: 'go' }))),
    vscode.commands.registerCommand('agy.showLog', () => output.show()),
    vscode.commands.registerCommand('agy.restartServer', async () => {
      controller?.dispose();
      controller = undefined;
      try {
        await servers.restart();
      } catch (e) {
        report(e);
      }
    }),
    vscode.commands.registerCommand('agy.installServer', async () => {
      if (await servers.install()) await vscode.commands.executeCommand('agy.restartServer');
    }),
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      if (!e.affectsConfiguration('agy')) return;
      if (RESTART_KEYS.some((k) => e.affectsConfiguration(k))) {
        const pick = await vscode.window.showInformationMessage('agy: restart the server to use the new command?', 'Restart');
        if (pick) await vscode.commands.executeCommand('agy.restartServer');
        return;
      }
      const client = servers.client;
      if (!client?.isRunning()) return;
      await client.sendNotification('workspace/didChangeConfiguration', { settings: { agy: initializationOptions(settings()) } });
      controller?.render();
    }),
  );

  // The @agy participant, and agy as a model so VS Code has one to select without Copilot.
  const chatApi = (vscode as { chat?: typeof vscode.chat }).chat;
  if (chatApi?.createChatParticipant) {
    const participant = chatApi.createChatParticipant('agy.chat', async (request, ctx, stream, token) => {
      let c: AgentController;
      try {
        c = await ready();
      } catch (e) {
        report(e);
        return { errorDetails: { message: `agy: ${errorText(e)}` } };
      }
      return c.chatHandler()(request, ctx, stream, token);
    });
    participant.iconPath = new vscode.ThemeIcon('hubot');
    // "Go ahead" under a plan.
    participant.followupProvider = { provideFollowups: (result) => controller?.followups(result) ?? [] };
    context.subscriptions.push(participant);
  }
  const lm = (vscode as { lm?: Partial<typeof vscode.lm> }).lm;
  if (lm?.registerLanguageModelChatProvider) {
    const version = (context.extension.packageJSON as { version?: string }).version ?? '0';
    context.subscriptions.push(lm.registerLanguageModelChatProvider(LM_VENDOR, new AgyLanguageModelProvider(vscode, ready, version, (line) => output.info(line))));
    // Resolving the models makes the Chat view settle on a model: without Copilot, agy's.
    // Until then VS Code answers @agy with "Language model unavailable".
    void lm.selectChatModels?.().then(
      (models) => output.info(`language models: ${models.map((m) => `${m.vendor}/${m.id}`).join(', ') || 'none'}`),
      (e: unknown) => output.warn(`language models: ${String(e)}`),
    );
  }
  if (!chatApi?.createChatParticipant || vscode.workspace.getConfiguration('chat').get<boolean>('disableAIFeatures') === true) {
    void vscode.window
      .showInformationMessage("agy: VS Code's Chat view is turned off here, so @agy is not available. The agy chat panel works without it.", 'Open Chat Panel')
      .then((pick) => (pick ? vscode.commands.executeCommand('agy.openChat') : undefined));
  }

  // Start at once: the status bar, the model and any start failure show up before the first question.
  void ready().catch(report);
}

export async function deactivate(): Promise<void> {
  controller?.dispose();
  controller = undefined;
  await manager?.stop();
  manager = undefined;
}
