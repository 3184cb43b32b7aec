-- The one agy-lsp server of this Neovim instance: start, reuse, requests, agents, state.
local config = require('agy.config')

local M = {}

M.client_id = nil
--- agentId -> { state = 'idle'|'busy'|..., name = string?, tokens = integer }
M.agents = {}
--- The agent that :AgyChat talks to.
M.current = nil

local waiting = {} ---@type fun(client: vim.lsp.Client)[]

local nvim011 = vim.fn.has('nvim-0.11') == 1

--- Calls a vim.lsp.Client method on 0.10 (fields) and 0.11+ (methods) alike.
local function call(client, name, ...)
  if nvim011 then
    return client[name](client, ...)
  end
  return client[name](...)
end
M.call = call

local function stopped(client)
  return call(client, 'is_stopped')
end

--- The running client, or nil.
function M.get()
  if M.client_id then
    local client = vim.lsp.get_client_by_id(M.client_id)
    if client and not stopped(client) then
      return client
    end
  end
  M.client_id = nil
  return nil
end

local function handlers()
  return {
    ['agy/chatChunk'] = function(_, params)
      require('agy.chat').on_chunk(params)
    end,
    ['agy/agentState'] = function(_, params)
      local agent = M.agents[params.agentId] or { tokens = 0 }
      agent.state = params.state
      M.agents[params.agentId] = agent
      vim.api.nvim_exec_autocmds('User', { pattern = 'AgyState', modeline = false, data = params })
    end,
    ['agy/confirmToolCall'] = function(_, params)
      return require('agy.confirm').handle(params)
    end,
    ['agy/runTool'] = function(_, params)
      return require('agy.tools').run(params)
    end,
    ['$/cancelRequest'] = function(_, params)
      require('agy.confirm').cancelled(params and params.id)
    end,
  }
end

local function capabilities()
  local caps = vim.lsp.protocol.make_client_capabilities()
  caps.experimental = caps.experimental or {}
  caps.experimental.agy = { confirmToolCall = config.options.confirm and true or false }
  return caps
end

local function init_options()
  local opts = vim.deepcopy(config.options.init_options or {})
  local backend = config.backend()
  if backend then
    opts.backend = backend
  end
  if vim.tbl_isempty(opts) then
    return vim.empty_dict()
  end
  return opts
end

--- Starts the server (once per Neovim instance) and calls `cb(client)` once it is initialized.
function M.with_client(cb)
  local client = M.get()
  if client and client.initialized then
    return cb(client)
  end
  table.insert(waiting, cb)
  if client then
    return
  end
  local cmd = config.options.cmd
  if vim.fn.executable(cmd[1]) ~= 1 then
    waiting = {}
    vim.notify(('agy: server executable not found: %s (see :checkhealth agy)'):format(cmd[1]), vim.log.levels.ERROR)
    return
  end
  local cfg = {
    name = 'agy',
    cmd = cmd,
    cmd_env = config.options.env,
    root_dir = vim.fn.getcwd(),
    capabilities = capabilities(),
    init_options = init_options(),
    handlers = handlers(),
    on_init = function(c)
      local pending = waiting
      waiting = {}
      vim.schedule(function()
        for _, fn in ipairs(pending) do
          fn(c)
        end
      end)
    end,
    on_exit = function()
      vim.schedule(function()
        M.client_id = nil
        M.agents = {}
        M.current = nil
        require('agy.chat').on_server_exit()
      end)
    end,
  }
  local id
  if nvim011 then
    id = vim.lsp.start(cfg, { attach = false })
  else
    id = vim.lsp.start_client(cfg)
  end
  if not id then
    waiting = {}
    vim.notify('agy: could not start ' .. table.concat(cmd, ' '), vim.log.levels.ERROR)
    return
  end
  M.client_id = id
end

--- An async request; `cb(err, result)`. Returns the request id (via cb_id) once sent.
function M.request(method, params, cb, cb_id)
  M.with_client(function(client)
    local ok, id = call(client, 'request', method, params, function(err, result)
      if cb then
        cb(err, result)
      end
    end)
    if not ok then
      if cb then
        cb({ code = -32603, message = 'agy: the server is not running' })
      end
      return
    end
    if cb_id then
      cb_id(id, client)
    end
  end)
end

--- A synchronous request (for :checkhealth and tests). Returns result, err.
function M.request_sync(method, params, timeout_ms)
  local client = M.get()
  if not client then
    return nil, { message = 'not running' }
  end
  local resp, err = call(client, 'request_sync', method, params, timeout_ms or 5000)
  if not resp then
    return nil, { message = tostring(err) }
  end
  return resp.result, resp.err
end

local function message(err)
  return type(err) == 'table' and (err.message or vim.inspect(err)) or tostring(err)
end
M.message = message

--- The createAgent params for a new agent.
function M.agent_params(extra)
  local o = config.options
  local policies = o.policies
  if o.editor_tools then
    -- The built-in editor tools only read: allow them, leave the rest to the preset/rules.
    local allow = { tool = 'editor_*', decision = 'allow' }
    if type(policies) == 'string' then
      policies = { preset = policies, rules = { allow } }
    elseif type(policies) == 'table' and vim.islist(policies) then
      policies = { rules = vim.list_extend({ allow }, policies) }
    elseif type(policies) == 'table' then
      policies = vim.deepcopy(policies)
      policies.rules = vim.list_extend({ allow }, policies.rules or {})
    elseif policies == nil then
      policies = { rules = { allow } }
    end
  end
  local params = {
    name = extra and extra.name or nil,
    workspaces = o.workspaces or { vim.fn.getcwd() },
    policies = policies,
    systemInstructions = o.system_instructions,
  }
  if o.editor_tools then
    params.tools = require('agy.tools').specs()
  end
  return params
end

--- Creates an agent; `cb(agent_id)` (nil on error, which is reported).
function M.create_agent(extra, cb)
  M.request('agy/createAgent', M.agent_params(extra), function(err, result)
    if err or not result then
      vim.notify('agy: createAgent failed: ' .. message(err), vim.log.levels.ERROR)
      return cb(nil)
    end
    M.agents[result.agentId] = M.agents[result.agentId] or { tokens = 0, state = 'idle' }
    M.agents[result.agentId].name = extra and extra.name or nil
    cb(result.agentId)
  end)
end

--- The current chat agent, created on first use; `cb(agent_id)`.
function M.ensure_agent(cb)
  if M.current and M.agents[M.current] then
    return cb(M.current)
  end
  M.create_agent({ name = 'chat' }, function(id)
    if id then
      M.current = id
    end
    cb(id)
  end)
end

local function any_busy()
  for _, agent in pairs(M.agents) do
    if agent.state == 'busy' then
      return true
    end
  end
  return require('agy.chat').running() ~= nil
end

local function fmt_tokens(n)
  if n >= 1000 then
    return ('%.1fk'):format(n / 1000)
  end
  return tostring(n)
end

--- Statusline component: '' when the server is not running.
function M.statusline()
  if not M.get() then
    return ''
  end
  local tokens = 0
  for _, agent in pairs(M.agents) do
    tokens = tokens + (agent.tokens or 0)
  end
  return ('agy %s %s tok'):format(any_busy() and 'busy' or 'idle', fmt_tokens(tokens))
end

--- Stops the server and waits for it to exit (used on VimLeavePre).
function M.stop(timeout_ms)
  local client = M.get()
  if not client then
    return
  end
  if not rawget(client, '_is_stopping') then
    call(client, 'stop')
  end
  local ok = vim.wait(timeout_ms or 5000, function()
    return stopped(client)
  end, 20)
  if not ok then
    call(client, 'stop', true)
  end
end

return M
