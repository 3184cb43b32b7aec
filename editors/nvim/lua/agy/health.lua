-- :checkhealth agy
local M = {}

local presets = { safeDefaults = true, confirmRunCommand = true, allowAll = true, denyAll = true, workspaceOnly = true, auto = true }
local levels = { minimal = true, low = true, medium = true, high = true, extra_high = true }
local tiers = { standard = true, priority = true, flex = true }
local behaviors = { autonomous = true, interactive = true, minimal = true }
local backend_types = { gemini = true, vertex = true, openai = true, scripted = true }

--- The backend type new agents get, as far as the plugin can tell (nil: unknown).
local function backend_kind(backend)
  if backend then
    return backend.type
  end
  local env = vim.env.AGY_BACKEND
  if env and env ~= '' then
    return env:match('^(%w+)')
  end
  if (vim.env.GEMINI_API_KEY or '') ~= '' or (vim.env.GOOGLE_API_KEY or '') ~= '' then
    return 'gemini'
  end
  return 'scripted'
end

local function check_agent_options(config, backend)
  local o = config.options
  local mo = o.model_options
  if mo ~= nil then
    local bad = {}
    if type(mo) ~= 'table' then
      bad[#bad + 1] = 'model_options must be a table'
    else
      if mo.thinkingLevel ~= nil and not levels[mo.thinkingLevel] then
        bad[#bad + 1] = ('thinkingLevel %q is not one of minimal, low, medium, high, extra_high'):format(tostring(mo.thinkingLevel))
      end
      if mo.serviceTier ~= nil and not tiers[mo.serviceTier] then
        bad[#bad + 1] = ('serviceTier %q is not one of standard, priority, flex'):format(tostring(mo.serviceTier))
      end
      if mo.maxOutputTokens ~= nil and (type(mo.maxOutputTokens) ~= 'number' or mo.maxOutputTokens < 1) then
        bad[#bad + 1] = 'maxOutputTokens must be a positive number'
      end
    end
    local kind = backend_kind(backend)
    if #bad > 0 then
      vim.health.error('model_options: ' .. table.concat(bad, '; '))
    elseif kind ~= 'gemini' and kind ~= 'vertex' then
      vim.health.warn(('model_options are set but new agents get a %s backend: the server refuses them (Gemini and Vertex only)'):format(kind), {
        'set backend = { type = "gemini", ... }, or remove model_options',
      })
    else
      vim.health.ok('model_options: ' .. vim.json.encode(mo) .. ' (:AgyThinking changes the current agent)')
    end
  end
  local caps = o.capabilities
  local behavior = type(caps) == 'table' and caps.agentBehavior or nil
  if behavior ~= nil and not behaviors[behavior] then
    vim.health.error(('capabilities.agentBehavior %q is not one of autonomous, interactive, minimal'):format(tostring(behavior)))
  elseif behavior == 'interactive' then
    vim.health.ok('plan mode: new agents are interactive, so :AgyPlan plans at once')
  else
    vim.health.info('plan mode: :AgyPlan makes the agent interactive first (agy/configureAgent: a new harness, same conversation)')
  end
  if o.agent ~= nil then
    if type(o.agent) ~= 'table' or vim.islist(o.agent) then
      vim.health.error('agent must be a table of createAgent params (budget, compaction, runCommand, ...)')
    else
      vim.health.ok('agent: ' .. table.concat(vim.tbl_keys(o.agent), ', '))
    end
  end
end

local function check_backend(config)
  local backend = config.backend()
  if backend then
    local kind = backend.type
    if not backend_types[kind or ''] then
      vim.health.error(('backend.type %q is not one of gemini, vertex, openai, scripted'):format(tostring(kind)))
      return
    end
    local desc = kind .. (backend.model and (' · model ' .. backend.model) or '')
    if kind == 'openai' and not backend.baseUrl then
      vim.health.error('backend.baseUrl is required for type openai', { 'e.g. baseUrl = "http://127.0.0.1:11434/v1"' })
    elseif kind == 'gemini' and not backend.apiKey and not (vim.env.GEMINI_API_KEY or vim.env.GOOGLE_API_KEY) then
      vim.health.warn('backend gemini but no apiKey and no GEMINI_API_KEY in the environment')
    elseif kind == 'vertex' and not backend.apiKey and not (backend.project and backend.location) then
      vim.health.error('backend vertex needs project + location, or an express apiKey')
    else
      vim.health.ok('backend: ' .. desc)
    end
  elseif vim.env.AGY_BACKEND and vim.env.AGY_BACKEND ~= '' then
    vim.health.ok('backend from the environment: AGY_BACKEND=' .. vim.env.AGY_BACKEND)
  elseif (vim.env.GEMINI_API_KEY or '') ~= '' or (vim.env.GOOGLE_API_KEY or '') ~= '' then
    vim.health.ok('backend: gemini (GEMINI_API_KEY is set)')
  else
    vim.health.warn('no backend configured and no GEMINI_API_KEY: the server uses its built-in scripted model', {
      'set `backend` in require("agy").setup{}, or GEMINI_API_KEY / AGY_BACKEND in the environment',
    })
  end
  local policies = config.options.policies
  local preset = require('agy.client').preset_of(policies)
  if preset ~= nil and not presets[preset] then
    vim.health.error(('policies preset %q is unknown'):format(preset), {
      'one of safeDefaults, confirmRunCommand, allowAll, denyAll, workspaceOnly, auto',
    })
  elseif policies ~= nil then
    vim.health.ok('policies: ' .. (type(policies) == 'string' and policies or vim.json.encode(policies)))
    if preset == 'auto' then
      vim.health.info("policies 'auto': the agent's own model vets risky calls (run_command, read_url_content); routine ones run, flagged ones ask you")
    end
  end
  check_agent_options(config, backend)
end

function M.check()
  local config = require('agy.config')
  local client = require('agy.client')

  vim.health.start('agy: Neovim')
  local v = vim.version()
  local vs = ('%d.%d.%d'):format(v.major, v.minor, v.patch)
  if vim.fn.has('nvim-0.10') == 1 then
    vim.health.ok('Neovim ' .. vs)
  else
    vim.health.error('Neovim ' .. vs .. ': agy needs Neovim >= 0.10')
  end

  vim.health.start('agy: server executable')
  local cmd = config.options.cmd or {}
  local exe = cmd[1] and vim.fn.exepath(cmd[1]) or ''
  if exe == '' then
    vim.health.error(('not executable: %s'):format(tostring(cmd[1])), {
      'pip install agy-lsp (or the repo: pip install -e .), or set cmd in require("agy").setup{}',
    })
  else
    vim.health.ok('found ' .. exe)
    local argv = vim.list_extend(vim.deepcopy(cmd), { '--version' })
    local ok, res = pcall(function()
      return vim.system(argv, { text = true, env = config.options.env }):wait(10000)
    end)
    local out = ok and res and vim.trim((res.stdout or '') .. (res.stderr or '')) or ''
    local version = out:match('agy%-lsp%s+(%S+)')
    if ok and res.code == 0 and version then
      vim.health.ok('version agy-lsp ' .. version)
    else
      vim.health.error(('`%s` failed: %s'):format(table.concat(argv, ' '), out ~= '' and out or 'no output'))
    end
  end

  vim.health.start('agy: configuration')
  check_backend(config)

  vim.health.start('agy: running server')
  if client.get() then
    local info, err = client.request_sync('agy/serverInfo', vim.empty_dict(), 5000)
    if info then
      local sdk = (info.sdkVersion and info.sdkVersion ~= vim.NIL) and info.sdkVersion or 'not installed'
      vim.health.ok(
        ('%s %s · SDK %s · default backend %s · state %s'):format(info.name, info.version, sdk, info.defaultBackend, info.stateDir)
      )
    else
      vim.health.error('agy/serverInfo failed: ' .. client.message(err))
    end
    local id = client.current
    local status = id and client.request_sync('agy/status', { agentId = id }, 5000)
    if type(status) == 'table' then
      local agent = client.agents[id] or {}
      local mo = agent.model_options or {}
      local parts = {
        ('chat agent %s: %s, %d turns'):format(id, status.state or '?', status.turnCount or 0),
        'policy ' .. tostring(client.preset_of(agent.policies) or 'rules'),
        'thinking ' .. tostring(mo.thinkingLevel or 'default'),
      }
      local caps = agent.capabilities
      parts[#parts + 1] = (type(caps) == 'table' and caps.agentBehavior or 'autonomous')
      if type(status.trajectoryUsage) == 'table' and #status.trajectoryUsage > 1 then
        parts[#parts + 1] = ('%d subagent trajectories'):format(#status.trajectoryUsage - 1)
      end
      vim.health.ok(table.concat(parts, ' · '))
      local sandbox = status.sandbox
      local run_command = type(config.options.agent) == 'table' and config.options.agent.runCommand or nil
      local asked = type(run_command) == 'table' and run_command.sandbox == true
      if type(sandbox) == 'table' and sandbox.available then
        vim.health.ok('run_command runs in the OS sandbox')
      elseif asked then
        local reason = type(sandbox) == 'table' and sandbox.reason or nil
        vim.health.warn('agent.runCommand.sandbox is on but the sandbox is not available: ' .. tostring(reason or 'no reason given'))
      else
        vim.health.info('run_command is not sandboxed (agent = { runCommand = { sandbox = true } } asks for it)')
      end
    end
  else
    vim.health.info('not running (it starts on the first :AgyChat)')
  end
end

return M
