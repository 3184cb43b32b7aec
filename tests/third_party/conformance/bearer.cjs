// Preloaded into the conformance suite (node --require): it has no option for request
// headers, and agy-lsp --mcp --http answers 401 without a token. Adds
// "Authorization: Bearer $AGY_CONFORMANCE_TOKEN" to every request it makes, through
// fetch (the MCP client) and through undici (its raw requests: DNS rebinding).
"use strict";
const path = require("node:path");
const token = process.env.AGY_CONFORMANCE_TOKEN;
if (!token) throw new Error("AGY_CONFORMANCE_TOKEN is not set");
const bearer = `Bearer ${token}`;

const fetch0 = globalThis.fetch;
globalThis.fetch = (input, init = {}) => {
  const headers = new Headers(init.headers ?? (input instanceof Request ? input.headers : undefined));
  headers.set("authorization", bearer);
  return fetch0(input, { ...init, headers });
};

const suite = path.dirname(require.resolve("@modelcontextprotocol/conformance/package.json", { paths: [process.cwd()] }));
const undici = require(require.resolve("undici", { paths: [suite] }));
const withToken = (dispatch) => (opts, handler) => {
  let headers = opts.headers ?? {};
  if (Array.isArray(headers)) headers = [...headers, "authorization", bearer];
  else headers = { ...headers, authorization: bearer };
  return dispatch({ ...opts, headers }, handler);
};
undici.setGlobalDispatcher(new undici.Agent().compose(withToken));
