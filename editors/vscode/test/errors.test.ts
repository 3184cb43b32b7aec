// A failed request or turn shows the server's cause and hint, not only its message
// ("the model backend failed"): the @agy participant, the chat panel and errorText.

import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as net from 'node:net';
import { chatPanelHandler, type ToWebview } from '../src/glue/chatPanel';
import { AgentController } from '../src/glue/controller';
import { ProposedContent } from '../src/glue/vs';
import { TokenSource } from '../src/protocol/cancellation';
import { errorText } from '../src/protocol/methods';
import { DEFAULT_SETTINGS } from '../src/protocol/settings';
import { fakeVscode } from './fakeVscode';
import { startServer, type Server } from './server';

/** A local port with nothing listening on it (bound, then closed again). */
async function closedPort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

describe('errorText', () => {
  it('adds the cause and the hint to the message, on one line', () => {
    const err = Object.assign(new Error('the model backend failed'), {
      code: -32007,
      data: { code: 'BACKEND_ERROR', cause: 'unsupported protocol\nscheme ""', hint: 'give an http URL' },
    });
    assert.equal(errorText(err), 'the model backend failed: unsupported protocol scheme "" (hint: give an http URL)');
  });

  it('leaves a message alone when there is no cause or it already says it, and shortens a long cause', () => {
    assert.equal(errorText(new Error('plain')), 'plain');
    assert.equal(errorText(Object.assign(new Error('bad: x'), { data: { cause: 'x' } })), 'bad: x');
    assert.ok(errorText(Object.assign(new Error('m'), { data: { cause: 'y'.repeat(5000) } })).length < 400);
    assert.equal(errorText('a string'), 'a string');
  });
});

describe('errors against agy-lsp', { timeout: 120_000 }, () => {
  let server: Server;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server?.close();
  });

  async function unreachable(): Promise<AgentController> {
    const fake = fakeVscode();
    const backend = { type: 'openai' as const, baseUrl: `http://127.0.0.1:${await closedPort()}/v1`, model: 'm' };
    return new AgentController(fake.vs, server.client, () => DEFAULT_SETTINGS, new ProposedContent(fake.vs), { agentDefaults: { backend } });
  }

  it('the @agy participant reports the cause and the hint of a failed turn', async () => {
    const controller = await unreachable();
    try {
      const result = await controller.chatHandler()(
        { prompt: 'hello' } as never,
        { history: [] },
        { markdown: () => undefined, progress: () => undefined } as never,
        new TokenSource().token as never,
      );
      const message = (result as { errorDetails?: { message: string } }).errorDetails?.message ?? '';
      assert.match(message, /connection refused/, message);
      assert.match(message, /\(hint: /, message);
    } finally {
      controller.dispose();
    }
  });

  it('the chat panel reports the cause and the hint of a failed turn', async () => {
    const controller = await unreachable();
    try {
      const posted: ToWebview[] = [];
      await chatPanelHandler(controller, (m) => posted.push(m))({ type: 'prompt', text: 'hello' });
      const done = posted.at(-1) as Extract<ToWebview, { type: 'done' }>;
      assert.equal(done.type, 'done');
      assert.match(done.error ?? '', /connection refused.*\(hint: /, done.error);
    } finally {
      controller.dispose();
    }
  });
});
