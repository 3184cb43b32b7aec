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

--- An error as a person reads it: the message, then the server's `data.cause` (the
--- message alone may say only "the model backend failed") and `data.hint` (the fix),
--- on one line.
local function message(err)
  if type(err) ~= 'table' then
    return tostring(err)
  end
  local text = err.message or vim.inspect(err)
  local data = type(err.data) == 'table' and err.data or {}
  if type(data.cause) == 'string' and data.cause ~= '' and not text:find(data.cause, 1, true) then
    local cause = data.cause:gsub('%s*\n%s*', ' ')
    text = text .. ': ' .. (#cause > 300 and (cause:sub(1, 300) .. '…') or cause)
  end
  if type(data.hint) == 'string' and data.hint ~= '' then
    text = text .. ' (hint: ' .. data.hint:gsub('%s*\n%s*', ' ') .. ')'
  end
  return text
end
M.message = message

--- `policies` (a preset name, a rule list or { preset, rules }) with the read-only editor
--- tools allowed, when they are on.
function M.policies(policies)
  if not config.options.editor_tools then
    return policies
  end
  -- The built-in editor tools only read: allow them, leave the rest to the preset/rules.
  local allow = { tool = 'editor_*', decision = 'allow' }
  if type(policies) == 'string' then
    return { preset = policies, rules = { allow } }
  elseif type(policies) == 'table' and vim.islist(policies) then
    return { rules = vim.list_extend({ allow }, vim.deepcopy(policies)) }
  elseif type(policies) == 'table' then
    policies = vim.deepcopy(policies)
    policies.rules = vim.list_extend({ allow }, policies.rules or {})
    return policies
  end
  return { rules = { allow } }
end

--- The preset of a `policies` option (nil for plain rules).
function M.preset_of(policies)
  if type(policies) == 'string' then
    return policies
  elseif type(policies) == 'table' and not vim.islist(policies) then
    return policies.preset
  end
  return nil
end

--- The createAgent params for a new agent. `extra`: name, and overrides of the setup()
--- options for this agent (policies, model_options, capabilities).
function M.agent_params(extra)
  extra = extra or {}
  local o = config.options
  local params = vim.deepcopy(o.agent or {})
  params.name = extra.name
  params.workspaces = o.workspaces or { vim.fn.getcwd() }
  local policies = extra.policies
  if policies == nil then
    policies = o.policies
  end
  params.policies = M.policies(policies)
  params.systemInstructions = o.system_instructions
  local model_options = extra.model_options or o.model_options
  if model_options and not vim.tbl_isempty(model_options) then
    params.modelOptions = vim.deepcopy(model_options)
  end
  local caps = vim.tbl_extend('force', vim.deepcopy(o.capabilities or {}), extra.capabilities or {})
  if not vim.tbl_isempty(caps) then
    params.capabilities = caps
  end
  if o.editor_tools then
    params.tools = require('agy.tools').specs()
  end
  return params
end

--- Creates an agent; `cb(agent_id, err)` (agent_id nil on error, which is reported
--- unless `extra.quiet`).
function M.create_agent(extra, cb)
  extra = extra or {}
  local params = M.agent_params(extra)
  M.request('agy/createAgent', params, function(err, result)
    if err or not result then
      if not extra.quiet then
        vim.notify('agy: createAgent failed: ' .. message(err), vim.log.levels.ERROR)
      end
      return cb(nil, err)
    end
    local agent = M.agents[result.agentId] or { tokens = 0, state = 'idle' }
    M.agents[result.agentId] = agent
    agent.name = extra.name
    -- What the plugin knows of its settings (for :AgyThinking, :AgyPolicy, :AgyPlan).
    agent.policies = extra.policies or config.options.policies
    agent.model_options = params.modelOptions
    agent.capabilities = params.capabilities
    cb(result.agentId)
  end)
end

--- The current chat agent, created on first use (with `extra` overrides); `cb(agent_id, err)`.
function M.ensure_agent(cb, extra)
  if M.current and M.agents[M.current] then
    return cb(M.current)
  end
  M.create_agent(vim.tbl_extend('force', { name = 'chat' }, extra or {}), function(id, err)
    if id then
      M.current = id
    end
    cb(id, err)
  end)
end

--- agy/configureAgent on `agent_id` with `fields` (wire names); the agent's next turn
--- runs on them. `cb(err)`; on success the agent's record is updated.
function M.configure(agent_id, fields, cb)
  local params = vim.deepcopy(fields)
  params.agentId = agent_id
  M.request('agy/configureAgent', params, function(err)
    local agent = M.agents[agent_id]
    if not err and agent then
      if fields.modelOptions then
        agent.model_options = fields.modelOptions
      end
      if fields.capabilities then
        agent.capabilities = fields.capabilities
      end
    end
    cb(err)
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
  local line = ('agy %s %s tok'):format(any_busy() and 'busy' or 'idle', fmt_tokens(tokens))
  local plan = M.current and require('agy.chat').plans[M.current]
  if plan and plan.awaiting then
    line = line .. ' · plan ready'
  end
  return line
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
