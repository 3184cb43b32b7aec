-- agy.nvim configuration: defaults merged with the user's `setup()` options.
local M = {}

M.defaults = {
  -- How to start the server. A list, as for vim.lsp.start(); the first item must be executable.
  cmd = { 'agy-lsp' },
  -- Extra environment for the server process (e.g. { AGY_STATE_DIR = '/tmp/agy' }).
  env = nil,
  -- The default backend, sent as initializationOptions.backend. nil: the server decides
  -- (AGY_BACKEND / GEMINI_API_KEY / the built-in scripted model).
  -- e.g. { type = 'gemini', model = 'gemini-2.5-pro' }
  --      { type = 'openai', baseUrl = 'http://127.0.0.1:11434/v1', model = 'qwen3' }
  backend = nil,
  -- Shorthand that overrides backend.model.
  model = nil,
  -- Policies for new agents: a preset name ('safeDefaults', 'confirmRunCommand', 'allowAll',
  -- 'denyAll', 'workspaceOnly', 'auto'), a list of rules, or { preset = ..., rules = { ... } }.
  -- 'auto': a safety model (the agent's own) approves routine calls and asks you about the rest.
  policies = 'safeDefaults',
  -- Model options for new agents (Gemini and Vertex models only), e.g.
  -- { thinkingLevel = 'high', serviceTier = 'priority', maxOutputTokens = 8192 }.
  model_options = nil,
  -- createAgent capabilities for new agents, e.g. { agentBehavior = 'interactive',
  -- disabledTools = { 'browser_subagent' } }. :AgyPlan makes an agent interactive when needed.
  capabilities = nil,
  -- More createAgent params for new agents, sent as they are: budget, compaction, runCommand,
  -- subagents, skills, toolOutput, mcpServers (see the server's docs/protocol.md).
  agent = nil,
  -- Workspaces given to new agents; nil means { cwd }.
  workspaces = nil,
  system_instructions = nil,
  -- Extra initializationOptions (chatTimeoutSecs, pacingMs, ...).
  init_options = nil,
  -- Answer agy/confirmToolCall with vim.ui.select (otherwise the server's policy decides alone).
  confirm = true,
  -- Serve the built-in editor tools (buffer text, selection, diagnostics) through agy/runTool.
  editor_tools = true,
  chat = {
    layout = 'vsplit', -- 'vsplit' | 'split' | 'float' | 'current'
    width = 0.4, -- vsplit/float: fraction of the editor width (or columns if > 1)
    height = 0.4, -- split/float: fraction of the editor height (or lines if > 1)
    show_thoughts = true, -- thoughts are shown dimmed
    fold_subagents = true, -- fold a subagent's work once the turn ends (zo opens it)
  },
  plan = {
    go = 'Go ahead with the plan.', -- what :AgyGo sends to approve a plan
  },
  -- Global keymaps (normal mode unless noted); false disables one.
  keymaps = {
    chat = '<leader>ac', -- :AgyChat
    edit = '<leader>ae', -- visual mode: :'<,'>AgyEdit
    new = '<leader>an', -- :AgyNew
    agents = '<leader>aa', -- :AgyAgents
    cancel = '<C-c>', -- in the chat buffer: cancel the running turn
    ask = '<CR>', -- in the chat buffer: prompt for the next message
    go = 'ga', -- in the chat buffer: :AgyGo (approve the plan)
    close = 'q', -- in the chat buffer: close the window
  },
}

M.options = vim.deepcopy(M.defaults)

function M.set(opts)
  M.options = vim.tbl_deep_extend('force', vim.deepcopy(M.defaults), opts or {})
  -- Lists are replaced, not merged.
  for _, key in ipairs({ 'cmd', 'policies', 'workspaces' }) do
    if opts and opts[key] ~= nil then
      M.options[key] = opts[key]
    end
  end
  return M.options
end

--- The backend table sent to the server, or nil.
function M.backend()
  local o = M.options
  if o.backend == nil and o.model == nil then
    return nil
  end
  local backend = vim.deepcopy(o.backend or { type = 'gemini' })
  if o.model then
    backend.model = o.model
  end
  return backend
end

return M
