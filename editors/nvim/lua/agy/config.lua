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
  -- 'denyAll', 'workspaceOnly'), a list of rules, or { preset = ..., rules = { ... } }.
  policies = 'safeDefaults',
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
    show_thoughts = true, -- thoughts are shown dimmed (and folded)
  },
  -- Global keymaps (normal mode unless noted); false disables one.
  keymaps = {
    chat = '<leader>ac', -- :AgyChat
    edit = '<leader>ae', -- visual mode: :'<,'>AgyEdit
    new = '<leader>an', -- :AgyNew
    agents = '<leader>aa', -- :AgyAgents
    cancel = '<C-c>', -- in the chat buffer: cancel the running turn
    ask = '<CR>', -- in the chat buffer: prompt for the next message
    close = 'q', -- in the chat buffer: close the window
  },
}

M.options = vim.deepcopy(M.defaults)

function M.set(opts)
  M.options = vim.tbl_deep_extend('force', vim.deepcopy(M.defaults), opts or {})
  -- Lists are replaced, not merged.
  if opts and opts.cmd then
    M.options.cmd = opts.cmd
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
