-- agy.nvim commands. The server starts on first use; see :help agy.
if vim.g.loaded_agy then
  return
end
vim.g.loaded_agy = true

if vim.fn.has('nvim-0.10') ~= 1 then
  vim.notify('agy.nvim needs Neovim >= 0.10', vim.log.levels.WARN)
  return
end

local cmd = vim.api.nvim_create_user_command

cmd('AgyChat', function(o)
  require('agy').chat(o.args)
end, { nargs = '*', desc = 'agy: open the chat, send a prompt' })

cmd('AgyCancel', function()
  require('agy').cancel()
end, { desc = 'agy: cancel the running turn' })

cmd('AgyEdit', function(o)
  require('agy').edit(o.line1, o.line2, o.args)
end, { nargs = '+', range = true, desc = 'agy: edit the selected lines by instruction' })

cmd('AgyAgents', function()
  require('agy').agents()
end, { desc = 'agy: list agents, pick the chat agent' })

cmd('AgyHistory', function(o)
  require('agy').history(o.args)
end, { nargs = '?', desc = 'agy: show the conversation of an agent' })

cmd('AgyNew', function()
  require('agy').new()
end, { desc = 'agy: start a fresh agent' })

cmd('AgyPlan', function(o)
  require('agy').plan(o.args)
end, { nargs = '*', desc = 'agy: ask for a plan (/plan), or open the newest plan' })

cmd('AgyGo', function(o)
  require('agy').go(o.args)
end, { nargs = '*', desc = 'agy: go ahead with the plan' })

cmd('AgyThinking', function(o)
  require('agy').thinking(o.args)
end, {
  nargs = '?',
  complete = function()
    return { 'minimal', 'low', 'medium', 'high', 'extra_high' }
  end,
  desc = "agy: the current agent's thinking level",
})

cmd('AgyPolicy', function(o)
  require('agy').policy(o.args)
end, {
  nargs = '?',
  complete = function()
    return { 'safeDefaults', 'confirmRunCommand', 'allowAll', 'denyAll', 'workspaceOnly', 'auto' }
  end,
  desc = "agy: the current agent's policy preset",
})
