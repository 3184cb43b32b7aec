// agy-lsp --acp against a client we did not write: the official ACP TypeScript SDK
// (@agentclientprotocol/sdk 2.x). Every line agy-lsp writes is checked against the
// JSON schema the SDK ships (schema/v1/schema.unstable.json: stable v1 plus the
// unstable methods we use), before the SDK sees it: the SDK quietly drops invalid
// fields and turns some error answers into success, so its own view is not enough.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { Readable, Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import * as acp from "@agentclientprotocol/sdk/unstable";
import Ajv2020 from "ajv/dist/2020.js";

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, "..", "..");
const schemaPath = join(here, "node_modules/@agentclientprotocol/sdk/schema/v1/schema.unstable.json");
const schema = JSON.parse(readFileSync(schemaPath, "utf8"));

const ajv = new Ajv2020({ strict: false, validateFormats: false });
ajv.addSchema(schema, "acp");
const check = (def) => ajv.getSchema(`acp#/$defs/${def}`);

// What the server sends, by method: the params of its requests and notifications,
// and the results of ours.
const PARAMS = {
  "session/update": "SessionNotification",
  "session/request_permission": "RequestPermissionRequest",
  "elicitation/create": "CreateElicitationRequest",
  "fs/read_text_file": "ReadTextFileRequest",
  "fs/write_text_file": "WriteTextFileRequest",
};
const RESULTS = {
  initialize: "InitializeResponse",
  authenticate: "AuthenticateResponse",
  "session/new": "NewSessionResponse",
  "session/load": "LoadSessionResponse",
  "session/resume": "ResumeSessionResponse",
  "session/close": "CloseSessionResponse",
  "session/delete": "DeleteSessionResponse",
  "session/list": "ListSessionsResponse",
  "session/prompt": "PromptResponse",
  "session/set_mode": "SetSessionModeResponse",
  "session/set_config_option": "SetSessionConfigOptionResponse",
};

class Wire {
  constructor() {
    this.sent = new Map(); // our request ids -> method
    this.problems = [];
    this.seen = 0;
    this.errors = []; // error answers, as they came over the wire
  }
  outgoing(line) {
    const msg = JSON.parse(line);
    if (msg.method && msg.id !== undefined) this.sent.set(msg.id, msg.method);
  }
  incoming(line) {
    this.seen += 1;
    const msg = JSON.parse(line);
    const fail = (what, validate) => this.problems.push(`${what}: ${ajv.errorsText(validate.errors)} in ${line.slice(0, 400)}`);
    if (msg.jsonrpc !== "2.0") return this.problems.push(`not JSON-RPC 2.0: ${line}`);
    if (msg.method) {
      if (msg.method.startsWith("_")) return; // an extension
      const def = PARAMS[msg.method];
      if (!def) return this.problems.push(`unexpected method ${msg.method}`);
      const validate = check(def);
      if (!validate(msg.params)) fail(msg.method, validate);
      return;
    }
    const method = this.sent.get(msg.id);
    if (msg.error) {
      this.errors.push({ method, ...msg.error });
      const validate = check("Error");
      if (validate && !validate(msg.error)) fail(`${method} error`, validate);
      return;
    }
    const def = RESULTS[method];
    if (!def) return this.problems.push(`a result of ${method} that no schema checks`);
    const validate = check(def);
    if (!validate(msg.result)) fail(`${method} result`, validate);
  }
}

// Newline-delimited JSON in both directions, each line shown to `wire` first.
function tap(onLine) {
  let buffer = "";
  return new TransformStream({
    transform(chunk, controller) {
      buffer += new TextDecoder().decode(chunk, { stream: true });
      let nl;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line.trim()) onLine(line);
      }
      controller.enqueue(chunk);
    },
  });
}

function startServer(stateDir) {
  const env = { ...process.env, AGY_STATE_DIR: stateDir, AGY_PACING_MS: "0", AGY_BACKEND: "", GEMINI_API_KEY: "", GOOGLE_API_KEY: "" };
  const child = spawn(join(repo, ".venv/bin/agy-lsp"), ["--acp"], { env, stdio: ["pipe", "pipe", "inherit"] });
  return child;
}

const scripted = (...replies) => ({ agy: { backend: { type: "scripted", script: { replies } } } });

async function withServer(stateDir, handlers, body) {
  const child = startServer(stateDir);
  const wire = new Wire();
  const fromServer = Readable.toWeb(child.stdout).pipeThrough(tap((l) => wire.incoming(l)));
  const toServer = tap((l) => wire.outgoing(l));
  toServer.readable.pipeTo(Writable.toWeb(child.stdin)).catch(() => {});
  const updates = [];
  const app = acp
    .client()
    .onNotification("session/update", ({ params }) => {
      updates.push(params);
    })
    .onRequest("session/request_permission", ({ params }) => handlers.permission(params))
    .onRequest("elicitation/create", ({ params }) => handlers.elicit(params));
  try {
    return await app.connectWith(acp.ndJsonStream(toServer.writable, fromServer), (ctx) => body(ctx, updates, wire));
  } finally {
    child.stdin.end();
    await new Promise((resolve) => {
      const timer = setTimeout(() => child.kill("SIGKILL"), 20000);
      child.on("exit", () => {
        clearTimeout(timer);
        resolve();
      });
    });
    assert.deepEqual(wire.problems, [], "every message agy-lsp sent is valid against the SDK's schema");
    assert.ok(wire.seen > 0);
  }
}

const of = (updates, sessionId, kind) => updates.filter((u) => u.sessionId === sessionId && u.update.sessionUpdate === kind).map((u) => u.update);
const until = async (predicate, ms = 15000) => {
  const end = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 20));
  }
};
const text = (updates, sessionId) =>
  of(updates, sessionId, "agent_message_chunk")
    .map((u) => u.content.text)
    .join("");

test("the session lifecycle, tool calls, questions and config options through the TypeScript SDK", async () => {
  const stateDir = mkdtempSync(join(tmpdir(), "agy-acp-ts-"));
  const cwd = mkdtempSync(join(tmpdir(), "agy-acp-ts-ws-"));
  const asked = [];
  const handlers = {
    permission: (params) => {
      asked.push(params);
      return { outcome: { outcome: "selected", optionId: "allow_once" } };
    },
    elicit: (params) => ({ action: "accept", content: { q0: params.requestedSchema.properties.q0.oneOf[1].const } }),
  };
  const question = { questions: [{ question: "Which colour?", options: ["red", "blue"] }], toolSummary: "Colour", toolAction: "Asking" };
  let sessionId;
  try {
    await withServer(stateDir, handlers, async (ctx, updates, wire) => {
      const init = await ctx.request("initialize", {
        protocolVersion: acp.PROTOCOL_VERSION,
        clientCapabilities: { fs: { readTextFile: false, writeTextFile: false }, elicitation: { form: {} } },
        clientInfo: { name: "agy-interop", version: "1" },
      });
      assert.equal(init.protocolVersion, 1);
      const caps = init.agentCapabilities.sessionCapabilities;
      assert.ok(caps.list && caps.resume && caps.close && caps.delete);
      assert.deepEqual(
        init.authMethods.map((m) => m.id),
        ["gemini-api-key", "vertex"],
      );
      await assert.rejects(ctx.request("authenticate", { methodId: "gemini-api-key" }), /GEMINI_API_KEY/);

      const created = await ctx.request("session/new", {
        cwd,
        mcpServers: [],
        _meta: scripted(
          { text: "hello from agy", chunks: 3 },
          { toolCalls: [{ name: "run_command", args: { CommandLine: "echo interop-ran", Cwd: cwd, WaitMsBeforeAsync: 5000 } }] },
          { toolCalls: [{ name: "ask_question", args: question }] },
          { text: "all done" },
        ),
      });
      sessionId = created.sessionId;
      assert.deepEqual(
        created.modes.availableModes.map((m) => m.id),
        ["ask_every_time", "auto_allow_reads", "auto", "allow_all", "plan"],
      );
      await until(() => of(updates, sessionId, "available_commands_update").length > 0);
      assert.deepEqual(
        of(updates, sessionId, "available_commands_update")[0].availableCommands.map((c) => c.name),
        ["plan", "clear"],
      );

      let result = await ctx.request("session/prompt", { sessionId, prompt: [{ type: "text", text: "hi there" }] });
      assert.equal(result.stopReason, "end_turn");
      assert.equal(text(updates, sessionId), "hello from agy");
      assert.equal(of(updates, sessionId, "session_info_update")[0].title, "hi there");
      assert.ok(of(updates, sessionId, "agent_message_chunk").every((u) => u.messageId));
      assert.ok(of(updates, sessionId, "usage_update").length > 0);

      result = await ctx.request("session/prompt", { sessionId, prompt: [{ type: "text", text: "run and ask" }] });
      assert.equal(result.stopReason, "end_turn");
      assert.equal(asked.length, 1);
      assert.equal(asked[0].toolCall.kind, "execute");
      const calls = of(updates, sessionId, "tool_call");
      assert.ok(calls.some((c) => c.kind === "execute"));
      const done = of(updates, sessionId, "tool_call_update").filter((u) => u.status === "completed");
      assert.ok(done.some((u) => JSON.stringify(u.content).includes("interop-ran")));
      assert.ok(text(updates, sessionId).endsWith("all done"));

      const changed = await ctx.request("session/set_config_option", { sessionId, configId: "mode", value: "allow_all" });
      assert.equal(changed.configOptions.find((o) => o.id === "mode").currentValue, "allow_all");
      await ctx.request("session/set_mode", { sessionId, modeId: "ask_every_time" });

      const listed = await ctx.request("session/list", {});
      assert.ok(listed.sessions.some((s) => s.sessionId === sessionId && s.title === "hi there"));
      await ctx.request("session/close", { sessionId });
      const resumed = await ctx.request("session/resume", { sessionId, cwd, mcpServers: [] });
      assert.ok(resumed.configOptions.length >= 3);
      await ctx.request("session/close", { sessionId });
      await assert.rejects(ctx.request("session/prompt", { sessionId, prompt: [{ type: "text", text: "closed?" }] }));
    });

    // A new server process: load replays what the person saw, tool outcomes included.
    await withServer(stateDir, handlers, async (ctx, updates, wire) => {
      await ctx.request("initialize", { protocolVersion: acp.PROTOCOL_VERSION, clientCapabilities: {} });
      await ctx.request("session/load", { sessionId, cwd, mcpServers: [] });
      assert.ok(of(updates, sessionId, "user_message_chunk").some((u) => u.content.text === "hi there"));
      const ran = of(updates, sessionId, "tool_call_update").filter((u) => u.status === "completed");
      assert.ok(ran.some((u) => JSON.stringify(u.content).includes("interop-ran")));
      await ctx.request("session/delete", { sessionId });
      const listed = await ctx.request("session/list", {});
      assert.ok(!listed.sessions.some((s) => s.sessionId === sessionId));
      await ctx.request("session/delete", { sessionId }).catch(() => {}); // the SDK turns -32002 into success
      const unknown = wire.errors.find((e) => e.method === "session/delete");
      assert.equal(unknown.code, -32602, "deleting an unknown session is an error on the wire");
    });
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
    rmSync(cwd, { recursive: true, force: true });
  }
});
