-- :AgyThinking and :AgyPolicy: change the current chat agent between turns (agy/configureAgent).
-- The setup() options stay the defaults for new agents.
local client = require('agy.client')
local config = require('agy.config')

local M = {}

M.levels = { 'minimal', 'low', 'medium', 'high', 'extra_high' }
M.presets = { 'safeDefaults', 'confirmRunCommand', 'allowAll', 'denyAll', 'workspaceOnly', 'auto' }
M.preset_help = {
  safeDefaults = 'read-only tools run, anything else asks',
  confirmRunCommand = 'everything runs, run_command asks',
  allowAll = 'everything runs',
  denyAll = 'nothing runs',
  workspaceOnly = 'file tools limited to the workspaces, else safeDefaults',
  auto = 'a safety model approves routine calls and asks you about the rest',
}

--- The last change { what, value, agentId, ok, error } (for scripts and tests).
M.last = nil

local function contains(list, value)
  return vim.tbl_contains(list, value)
end

local function done(change)
  M.last = change
  vim.api.nvim_exec_autocmds('User', { pattern = 'AgyConfigured', modeline = false, data = change })
end

local function field_of(err)
  local data = type(err) == 'table' and type(err.data) == 'table' and err.data or {}
  return type(data.field) == 'string' and data.field or nil
end

--- A person's wording of a configureAgent/createAgent error.
local function explain(what, err)
  local msg = client.message(err)
  local field = field_of(err) or ''
  if what == 'thinking' and field:match('^modelOptions') then
    if msg:match('Gemini') or field == 'modelOptions' then
      return 'the thinking level needs a Gemini or Vertex model; this agent has another backend (' .. msg .. ')'
    end
  end
  if type(err) == 'table' and err.code == -32009 then
    return 'a turn is running: wait for it to end, or :AgyCancel it'
  end
  return msg
end

--- Applies `fields` (configureAgent) to the current agent, or creates it with `override`
--- when there is none yet. `label` is shown to the person.
local function apply(what, value, fields, override, label)
  local chat = require('agy.chat')
  local id = client.current
  local function report(agent_id, err)
    if err then
      vim.notify(('agy: %s: %s'):format(label, explain(what, err)), vim.log.levels.ERROR)
      return done({ what = what, value = value, agentId = agent_id, ok = false, error = client.message(err), field = field_of(err) })
    end
    vim.notify(('agy: %s (from the next turn)'):format(label), vim.log.levels.INFO)
    chat.notice(agent_id, label)
    done({ what = what, value = value, agentId = agent_id, ok = true })
  end
  if id and client.agents[id] then
    if chat.running(id) then
      vim.notify('agy: a turn is running: change it after the turn (or :AgyCancel it)', vim.log.levels.WARN)
      return done({ what = what, value = value, agentId = id, ok = false, error = 'busy' })
    end
    client.configure(id, fields(client.agents[id]), function(err)
      if not err and what == 'policy' then
        client.agents[id].policies = override.policies
      end
      report(id, err)
    end)
  else
    client.ensure_agent(function(agent_id, err)
      report(agent_id, err)
    end, vim.tbl_extend('force', override, { quiet = true }))
  end
end

--- :AgyThinking {level}: the current agent's thinking level (Gemini and Vertex models).
function M.thinking(level)
  if not level or level == '' then
    local agent = client.current and client.agents[client.current]
    local mo = agent and agent.model_options or config.options.model_options or {}
    return vim.ui.select(M.levels, {
      prompt = ('agy thinking level (now %s)'):format(mo.thinkingLevel or 'the model default'),
      kind = 'agy.thinking',
    }, function(choice)
      if choice then
        M.thinking(choice)
      end
    end)
  end
  if not contains(M.levels, level) then
    vim.notify(('agy: unknown thinking level %q (one of %s)'):format(level, table.concat(M.levels, ', ')), vim.log.levels.ERROR)
    return done({ what = 'thinking', value = level, ok = false, error = 'unknown level' })
  end
  local function options(agent)
    local mo = vim.deepcopy((agent and agent.model_options) or config.options.model_options or {})
    mo.thinkingLevel = level
    return mo
  end
  apply('thinking', level, function(agent)
    return { modelOptions = options(agent) }
  end, { model_options = options(nil) }, 'thinking level ' .. level)
end

--- :AgyPolicy {preset}: the current agent's policy preset (its rules from setup() stay).
function M.policy(preset)
  if not preset or preset == '' then
    local agent = client.current and client.agents[client.current]
    local now = client.preset_of(agent and agent.policies or config.options.policies) or 'rules'
    return vim.ui.select(M.presets, {
      prompt = ('agy policy (now %s)'):format(now),
      kind = 'agy.policy',
      format_item = function(p)
        return ('%s%s  %s'):format(p == now and '* ' or '  ', p, M.preset_help[p])
      end,
    }, function(choice)
      if choice then
        M.policy(choice)
      end
    end)
  end
  if not contains(M.presets, preset) then
    vim.notify(('agy: unknown policy preset %q (one of %s)'):format(preset, table.concat(M.presets, ', ')), vim.log.levels.ERROR)
    return done({ what = 'policy', value = preset, ok = false, error = 'unknown preset' })
  end
  -- Keep the rules of the configured policies; swap the preset.
  local base = config.options.policies
  local policies = preset
  if type(base) == 'table' and vim.islist(base) then
    policies = { preset = preset, rules = vim.deepcopy(base) }
  elseif type(base) == 'table' and base.rules then
    policies = { preset = preset, rules = vim.deepcopy(base.rules) }
  end
  apply('policy', preset, function()
    return { policies = client.policies(policies) }
  end, { policies = policies }, 'policy ' .. preset)
end

return M
