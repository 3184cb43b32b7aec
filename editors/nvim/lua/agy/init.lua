-- agy.nvim: Google Antigravity agents in Neovim, through the agy-lsp server.
local config = require('agy.config')
local client = require('agy.client')

local M = {}

M.configured = false

local function highlights()
  local links = {
    AgyHeader = 'Title',
    AgyThought = 'Comment',
    AgyToolCall = 'Function',
    AgyToolResult = 'String',
    AgyToolError = 'DiagnosticError',
    AgyFooter = 'NonText',
    AgySubagent = 'Comment',
    AgySubagentHeader = 'Special',
    AgyPlan = false, -- the plan's other lines keep their Markdown highlighting
    AgyPlanHeader = 'Title',
    AgyPlanDone = 'DiagnosticOk',
    AgyPlanActive = 'DiagnosticWarn',
    AgyPlanPending = 'DiagnosticInfo',
  }
  for group, link in pairs(links) do
    vim.api.nvim_set_hl(0, group, link and { link = link, default = true } or { default = true })
  end
end

local function keymaps()
  local keys = config.options.keymaps or {}
  local function map(mode, lhs, rhs, desc)
    if lhs and lhs ~= false and lhs ~= '' then
      vim.keymap.set(mode, lhs, rhs, { desc = desc, silent = true })
    end
  end
  map('n', keys.chat, '<cmd>AgyChat<cr>', 'agy: chat')
  map('x', keys.edit, function()
    -- Leave visual mode first so that '< and '> mark the selection.
    vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes('<Esc>', true, false, true), 'nx', false)
    vim.ui.input({ prompt = 'agy edit: ' }, function(instruction)
      if instruction and instruction ~= '' then
        vim.cmd("'<,'>AgyEdit " .. instruction)
      end
    end)
  end, 'agy: edit the selection')
  map('n', keys.new, '<cmd>AgyNew<cr>', 'agy: new agent')
  map('n', keys.agents, '<cmd>AgyAgents<cr>', 'agy: agents')
end

local function autocmds()
  local group = vim.api.nvim_create_augroup('agy', { clear = true })
  vim.api.nvim_create_autocmd('BufEnter', {
    group = group,
    callback = function(ev)
      require('agy.tools').track(ev.buf)
    end,
  })
  vim.api.nvim_create_autocmd('LspRequest', {
    group = group,
    callback = function(ev)
      if client.client_id and ev.data and ev.data.client_id == client.client_id then
        require('agy.chat').on_request(ev.data)
      end
    end,
  })
  -- Stop the server (and so its agents and harnesses) before Neovim goes away.
  vim.api.nvim_create_autocmd('VimLeavePre', {
    group = group,
    callback = function()
      client.stop(5000)
    end,
  })
  vim.api.nvim_create_autocmd('User', {
    group = group,
    pattern = { 'AgyState', 'AgyTurnDone' },
    callback = function()
      vim.cmd('redrawstatus')
    end,
  })
end

--- Configures the plugin. Safe to call more than once; a running server keeps its options.
function M.setup(opts)
  config.set(opts)
  M.configured = true
  highlights()
  autocmds()
  keymaps()
  require('agy.tools').track(vim.api.nvim_get_current_buf())
end

local function ensure_setup()
  if not M.configured then
    M.setup({})
  end
end

--- :AgyChat [prompt]: opens the chat; sends `prompt` when given, else asks for one.
function M.chat(prompt)
  ensure_setup()
  require('agy.tools').track(vim.api.nvim_get_current_buf())
  local chat = require('agy.chat')
  if prompt and prompt ~= '' then
    return chat.send(prompt)
  end
  client.ensure_agent(function(id)
    if not id then
      return
    end
    chat.open(id)
    vim.ui.input({ prompt = 'agy> ' }, function(text)
      if text and text ~= '' then
        chat.send(text)
      end
    end)
  end)
end

--- :AgyCancel: cancels the running chat turn (or edit).
function M.cancel()
  ensure_setup()
  if require('agy.chat').running() then
    return require('agy.chat').cancel()
  end
  if require('agy.edit').cancel() then
    return true
  end
  vim.notify('agy: nothing to cancel', vim.log.levels.INFO)
  return false
end

--- :'<,'>AgyEdit {instruction}
function M.edit(line1, line2, instruction)
  ensure_setup()
  require('agy.edit').run(line1, line2, instruction)
end

function M.agents()
  ensure_setup()
  require('agy.chat').agents()
end

function M.history(agent_id)
  ensure_setup()
  require('agy.chat').history(agent_id ~= '' and agent_id or nil)
end

function M.new()
  ensure_setup()
  require('agy.chat').new()
end

--- :AgyPlan {request}: asks the current agent for a plan (`/plan {request}`); the agent is
--- made interactive first if it is not. Without a request: opens the newest plan's file.
function M.plan(request)
  ensure_setup()
  local chat = require('agy.chat')
  if request and vim.trim(request) ~= '' then
    return chat.send('/plan ' .. vim.trim(request))
  end
  local plan = client.current and chat.plans[client.current]
  if not plan or not plan.path or plan.path == vim.NIL then
    vim.notify('agy: no plan yet (:AgyPlan {request} asks for one)', vim.log.levels.INFO)
    return
  end
  vim.cmd('botright split ' .. vim.fn.fnameescape(plan.path))
end

--- :AgyGo [message]: approves the plan (sends `plan.go`, or [message]) to the current agent.
function M.go(message)
  ensure_setup()
  if not message or vim.trim(message) == '' then
    message = (config.options.plan or {}).go or 'Go ahead with the plan.'
  end
  return require('agy.chat').send(message)
end

--- :AgyThinking [level]: the current agent's thinking level.
function M.thinking(level)
  ensure_setup()
  require('agy.settings').thinking(level)
end

--- :AgyPolicy [preset]: the current agent's policy preset.
function M.policy(preset)
  ensure_setup()
  require('agy.settings').policy(preset)
end

--- Statusline component, e.g. `agy idle 1.2k tok`; '' while the server is not running.
function M.statusline()
  return client.statusline()
end

--- True while a turn or an edit runs.
function M.busy()
  return require('agy.chat').running() ~= nil or require('agy.edit').running ~= nil
end

return M
