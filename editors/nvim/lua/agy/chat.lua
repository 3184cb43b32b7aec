-- Chat buffers: one per agent. Streams agy/chatChunk into the buffer while agy/chat is pending.
local client = require('agy.client')
local config = require('agy.config')
local blocks = require('agy.blocks')

local M = {}

local ns = vim.api.nvim_create_namespace('agy.chat')

--- agentId -> running turn { agent, buf, request_id, client, kind, seq, texts, done, cancelling }
local turns = {}
--- agentId -> chat buffer
local buffers = {}
--- The last finished turn per agent (for the statusline, tests and scripts).
M.last = {}
--- The newest plan per agent: { path, markdown, entries, awaiting = bool }.
M.plans = {}

local function valid(buf)
  return buf and vim.api.nvim_buf_is_valid(buf)
end

local function set_keymaps(buf)
  local keys = config.options.keymaps or {}
  local function map(lhs, rhs, desc)
    if lhs and lhs ~= false and lhs ~= '' then
      vim.keymap.set('n', lhs, rhs, { buffer = buf, desc = desc, nowait = true })
    end
  end
  map(keys.cancel, function()
    M.cancel()
  end, 'agy: cancel the running turn')
  map(keys.ask, function()
    vim.ui.input({ prompt = 'agy> ' }, function(text)
      if text and text ~= '' then
        M.send(text)
      end
    end)
  end, 'agy: send a message')
  map(keys.go, function()
    require('agy').go()
  end, 'agy: go ahead with the plan')
  map(keys.close, '<cmd>close<cr>', 'agy: close the chat window')
end

--- The chat buffer of an agent (created if needed).
function M.buffer(agent_id)
  local buf = buffers[agent_id]
  if valid(buf) then
    return buf
  end
  buf = vim.api.nvim_create_buf(false, true)
  vim.bo[buf].buftype = 'nofile'
  vim.bo[buf].bufhidden = 'hide'
  vim.bo[buf].swapfile = false
  vim.bo[buf].filetype = 'agychat'
  vim.bo[buf].syntax = 'markdown'
  pcall(vim.api.nvim_buf_set_name, buf, 'agy://chat/' .. agent_id)
  vim.b[buf].agy_agent = agent_id
  local agent = client.agents[agent_id] or {}
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, {
    ('# agy chat · %s%s'):format(agent.name and (agent.name .. ' · ') or '', agent_id),
    '',
    '',
  })
  vim.api.nvim_buf_set_extmark(buf, ns, 0, 0, { line_hl_group = 'AgyHeader' })
  set_keymaps(buf)
  buffers[agent_id] = buf
  return buf
end

local function size(value, total)
  if value <= 1 then
    return math.max(10, math.floor(total * value))
  end
  return math.floor(value)
end

--- Shows the chat buffer of `agent_id` in a window; focuses it unless `nofocus`.
function M.open(agent_id, nofocus)
  local buf = M.buffer(agent_id)
  local win = vim.fn.bufwinid(buf)
  if win ~= -1 then
    if not nofocus then
      vim.api.nvim_set_current_win(win)
    end
    return buf, win
  end
  local prev = vim.api.nvim_get_current_win()
  local opts = config.options.chat or {}
  local layout = opts.layout or 'vsplit'
  if layout == 'float' then
    local width = size(opts.width or 0.4, vim.o.columns)
    local height = size(opts.height or 0.4, vim.o.lines)
    win = vim.api.nvim_open_win(buf, true, {
      relative = 'editor',
      width = width,
      height = height,
      row = math.floor((vim.o.lines - height) / 2),
      col = math.floor((vim.o.columns - width) / 2),
      border = 'rounded',
      title = ' agy ',
    })
  elseif layout == 'current' then
    vim.api.nvim_win_set_buf(0, buf)
    win = vim.api.nvim_get_current_win()
  else
    local vertical = layout ~= 'split'
    vim.cmd(vertical and 'botright vsplit' or 'botright split')
    win = vim.api.nvim_get_current_win()
    vim.api.nvim_win_set_buf(win, buf)
    if vertical then
      vim.api.nvim_win_set_width(win, size(opts.width or 0.4, vim.o.columns))
    else
      vim.api.nvim_win_set_height(win, size(opts.height or 0.4, vim.o.lines))
    end
  end
  vim.wo[win].wrap = true
  vim.wo[win].linebreak = true
  vim.wo[win].number = false
  vim.wo[win].relativenumber = false
  vim.wo[win].foldmethod = 'manual'
  if nofocus then
    vim.api.nvim_set_current_win(prev)
  end
  return buf, win
end

-- ------------------------------------------------------------------ rendering

local function scroll(buf)
  local last = vim.api.nvim_buf_line_count(buf)
  for _, win in ipairs(vim.fn.win_findbuf(buf)) do
    pcall(vim.api.nvim_win_set_cursor, win, { last, 0 })
  end
end

--- Appends whole lines; a trailing empty line is replaced. Returns the first new row.
local function add_lines(buf, lines, hl)
  local n = vim.api.nvim_buf_line_count(buf)
  local last = vim.api.nvim_buf_get_lines(buf, n - 1, n, false)[1]
  local start = last == '' and n - 1 or n
  vim.api.nvim_buf_set_lines(buf, start, n, false, lines)
  if hl then
    for i = 0, #lines - 1 do
      vim.api.nvim_buf_set_extmark(buf, ns, start + i, 0, { line_hl_group = hl })
    end
  end
  scroll(buf)
  return start
end

local thought_prefix = '│ '

--- Appends streamed text of `kind` ('text' | 'thought') to the turn's buffer.
local function write(turn, kind, text)
  local buf = turn.buf
  if not valid(buf) or not text or text == '' then
    return
  end
  local prefix = kind == 'thought' and thought_prefix or ''
  local hl = kind == 'thought' and 'AgyThought' or nil
  if turn.kind ~= kind then
    vim.api.nvim_buf_set_lines(buf, -1, -1, false, { prefix })
    turn.kind = kind
  end
  local pieces = vim.split(text, '\n', { plain = true })
  local n = vim.api.nvim_buf_line_count(buf)
  local last = vim.api.nvim_buf_get_lines(buf, n - 1, n, false)[1] or ''
  local lines = { last .. pieces[1] }
  for i = 2, #pieces do
    lines[#lines + 1] = prefix .. pieces[i]
  end
  vim.api.nvim_buf_set_lines(buf, n - 1, n, false, lines)
  if hl then
    for i = 0, #lines - 1 do
      vim.api.nvim_buf_set_extmark(buf, ns, n - 1 + i, 0, { line_hl_group = hl })
    end
  end
  scroll(buf)
end

local fmt_args = blocks.fmt_args

local function tool_line(turn, text, hl)
  if not valid(turn.buf) then
    return
  end
  vim.api.nvim_buf_set_lines(turn.buf, -1, -1, false, { text })
  local n = vim.api.nvim_buf_line_count(turn.buf)
  vim.api.nvim_buf_set_extmark(turn.buf, ns, n - 1, 0, { line_hl_group = hl })
  turn.kind = 'tool'
  scroll(turn.buf)
  return n - 1
end

--- Adds a compact line to the running turn of `agent_id` (e.g. a confirmation outcome);
--- under a subagent's block when `call_id` is one of its calls.
function M.note(agent_id, text, hl, call_id)
  local turn = turns[agent_id]
  if turn and not turn.done then
    if call_id and valid(turn.buf) and blocks.sub_note(turn, call_id, vim.trim(text), hl or 'AgyToolCall') then
      return
    end
    tool_line(turn, text, hl or 'AgyToolCall')
  end
end

--- Appends a dim line to the chat of `agent_id` between turns (e.g. a settings change).
function M.notice(agent_id, text)
  if not client.agents[agent_id] then
    return
  end
  local buf = M.buffer(agent_id)
  local turn = turns[agent_id]
  if turn and not turn.done then
    return tool_line(turn, '  ' .. text, 'AgyFooter')
  end
  local start = add_lines(buf, { '_' .. text .. '_', '', '' }, nil)
  vim.api.nvim_buf_set_extmark(buf, ns, start, 0, { line_hl_group = 'AgyFooter' })
end

local function is_sub(p)
  return type(p.depth) == 'number' and p.depth > 0
end

function M.on_chunk(p)
  local turn = turns[p.agentId]
  if not turn or turn.done then
    return
  end
  if p.seq and p.seq <= turn.seq then
    return -- a duplicate or a late chunk
  end
  turn.seq = p.seq or turn.seq + 1
  turn.turn_id = p.turnId
  turn.chunks[#turn.chunks + 1] = p.kind
  if is_sub(p) then
    return blocks.subagent_chunk(turn, p)
  end
  if p.kind == 'text' then
    turn.streamed = true
    write(turn, 'text', p.text)
  elseif p.kind == 'thought' then
    if config.options.chat.show_thoughts ~= false then
      write(turn, 'thought', p.text)
    end
  elseif p.kind == 'toolCall' or p.kind == 'toolResult' then
    local text, hl, id = blocks.tool_text(p)
    local r = tool_line(turn, '  ' .. text, hl)
    if r then
      local tc = p.kind == 'toolCall' and p.toolCall or nil
      blocks.track_call(turn, id, r, tc and { name = tc.name, args = tc.args } or nil)
    end
  elseif p.kind == 'compaction' then
    tool_line(turn, '  ⟲ ' .. blocks.compaction_text(p.text), 'AgyFooter')
  elseif p.kind == 'retry' then -- the harness retries the model request
    tool_line(turn, '  ↻ ' .. (p.text or 'model request failed, retrying') .. '…', 'AgyFooter')
  elseif p.kind == 'plan' then
    if valid(turn.buf) then
      blocks.plan(turn, p)
      local plan = vim.deepcopy(turn.plan)
      plan.awaiting = turn.planning
      M.plans[turn.agent] = plan
    end
  end
end

-- ------------------------------------------------------------------ turns

local function footer(turn, text, hl)
  if not valid(turn.buf) then
    return
  end
  local start = add_lines(turn.buf, { '', text, '', '' }, nil)
  vim.api.nvim_buf_set_extmark(turn.buf, ns, start + 1, 0, { line_hl_group = hl })
  return vim.api.nvim_buf_set_extmark(turn.buf, blocks.ns, start + 1, 0, {})
end

--- Adds the subagents' share of the turn's tokens (agy/status trajectoryUsage) to its footer.
local function subagent_usage(turn, footer_mark, info)
  local ids = {}
  for _, sub in ipairs(turn.sub_order) do
    ids[sub.id] = true
  end
  client.request('agy/status', { agentId = turn.agent }, function(err, status)
    if err or type(status) ~= 'table' or type(status.trajectoryUsage) ~= 'table' then
      return
    end
    local total, n = 0, 0
    for _, t in ipairs(status.trajectoryUsage) do
      if ids[t.trajectoryId] then
        n = n + 1
        total = total + (type(t.usage) == 'table' and t.usage.totalTokens or 0)
      end
    end
    if n == 0 then
      return
    end
    -- The turn's usage includes its subagents'; say how much of it was theirs.
    info.subagentTokens = total
    if not (valid(turn.buf) and footer_mark) then
      return
    end
    local r = vim.api.nvim_buf_get_extmark_by_id(turn.buf, blocks.ns, footer_mark, {})[1]
    local line = r and vim.api.nvim_buf_get_lines(turn.buf, r, r + 1, false)[1]
    local tail = ' ──'
    if line and vim.endswith(line, tail) then
      local extra = (' · %d by %s%s'):format(total, n == 1 and 'the subagent' or (n .. ' subagents'), tail)
      vim.api.nvim_buf_set_text(turn.buf, r, #line - #tail, r, #line, { extra })
    end
    vim.api.nvim_exec_autocmds('User', { pattern = 'AgySubagentUsage', modeline = false, data = info })
  end)
end

local function finish(turn, err, result)
  if turn.done then
    return
  end
  turn.done = true
  if turns[turn.agent] == turn then
    turns[turn.agent] = nil
  end
  local info = { agentId = turn.agent, chunks = turn.chunks }
  if err then
    local cancelled = turn.cancelling or err.code == -32800 or err.code == -32010
    info.stopReason = cancelled and 'cancelled' or 'error'
    info.error = client.message(err)
    footer(turn, cancelled and '── cancelled ──' or ('── error: %s ──'):format(info.error), cancelled and 'AgyFooter' or 'AgyToolError')
  else
    result = result or {}
    if not turn.streamed and type(result.text) == 'string' and result.text ~= '' then
      write(turn, 'text', result.text)
    end
    info.stopReason = result.stopReason
    info.turnId = result.turnId
    info.text = result.text
    local usage = type(result.usage) == 'table' and result.usage or {}
    local total = usage.totalTokens or 0
    info.usage = usage
    local agent = client.agents[turn.agent]
    if agent then
      agent.tokens = (agent.tokens or 0) + total
    end
    local plan = M.plans[turn.agent]
    if turn.planning and turn.plan and plan then
      local keys = config.options.keymaps or {}
      local key = (keys.go and keys.go ~= '') and (' (' .. keys.go .. ')') or ''
      tool_line(turn, ('  ▶ review the plan, then :AgyGo%s to go ahead, or reply with changes'):format(key), 'AgyPlanHeader')
    end
    local mark = footer(
      turn,
      ('── %s · %d tokens (in %d, out %d) ──'):format(
        result.stopReason or 'done',
        total,
        usage.promptTokens or 0,
        usage.candidatesTokens or 0
      ),
      'AgyFooter'
    )
    if #turn.sub_order > 0 then
      subagent_usage(turn, mark, info)
    end
  end
  if #turn.sub_order > 0 then
    info.subagents = blocks.subagent_rows(turn)
    if config.options.chat.fold_subagents ~= false then
      blocks.fold_subagents(turn)
    end
  end
  if turn.plan then
    info.plan = turn.plan
  end
  M.last[turn.agent] = info
  vim.api.nvim_exec_autocmds('User', { pattern = 'AgyTurnDone', modeline = false, data = info })
end

--- True for a prompt that asks for a plan (`/plan ...`).
function M.is_plan(prompt)
  return type(prompt) == 'string' and prompt:match('^%s*/plan%f[%s%z]') ~= nil
end

local function interactive(agent_id)
  local agent = client.agents[agent_id]
  local caps = agent and agent.capabilities
  return type(caps) == 'table' and caps.agentBehavior == 'interactive'
end

--- Makes `agent_id` interactive (agy/configureAgent), so that the harness plans; `cb(ok)`.
function M.make_interactive(agent_id, cb)
  local agent = client.agents[agent_id] or {}
  local caps = vim.tbl_extend('force', vim.deepcopy(agent.capabilities or config.options.capabilities or {}), { agentBehavior = 'interactive' })
  client.configure(agent_id, { capabilities = caps }, function(err)
    if err then
      vim.notify('agy: could not make the agent interactive for planning: ' .. client.message(err), vim.log.levels.ERROR)
      return cb(false)
    end
    M.notice(agent_id, 'this agent is now interactive: it plans, then waits for your go-ahead')
    cb(true)
  end)
end

local function start(agent_id, prompt, opts)
  if turns[agent_id] then
    vim.notify('agy: a turn is already running (:AgyCancel to stop it)', vim.log.levels.WARN)
    return
  end
  local buf = opts.nofocus and M.buffer(agent_id) or M.open(agent_id)
  if opts.nofocus and vim.fn.bufwinid(buf) == -1 then
    M.open(agent_id, true)
  end
  add_lines(buf, { '## You' }, 'AgyHeader')
  vim.api.nvim_buf_set_lines(buf, -1, -1, false, vim.split(prompt, '\n', { plain = true }))
  vim.api.nvim_buf_set_lines(buf, -1, -1, false, { '', '## Agent' })
  vim.api.nvim_buf_set_extmark(buf, ns, vim.api.nvim_buf_line_count(buf) - 1, 0, { line_hl_group = 'AgyHeader' })
  local turn = { agent = agent_id, buf = buf, seq = -1, chunks = {}, kind = nil, planning = M.is_plan(prompt) }
  blocks.new_turn_state(turn)
  turns[agent_id] = turn
  local plan = M.plans[agent_id]
  if plan and not turn.planning then
    plan.awaiting = false -- this message answers the plan
  end
  client.request('agy/chat', { agentId = agent_id, prompt = prompt }, function(err, result)
    finish(turn, err, result)
  end, function(id, c)
    turn.request_id = id
    turn.client = c
  end)
end

--- Sends `prompt` to the current agent (created on first use) and streams the reply. A
--- `/plan ...` prompt first makes the agent interactive, which planning needs.
function M.send(prompt, opts)
  opts = opts or {}
  local planning = M.is_plan(prompt)
  local extra = planning and { capabilities = { agentBehavior = 'interactive' } } or nil
  client.ensure_agent(function(agent_id)
    if not agent_id then
      return
    end
    if turns[agent_id] then
      vim.notify('agy: a turn is already running (:AgyCancel to stop it)', vim.log.levels.WARN)
      return
    end
    if planning and not interactive(agent_id) then
      return M.make_interactive(agent_id, function(ok)
        if ok then
          start(agent_id, prompt, opts)
        end
      end)
    end
    start(agent_id, prompt, opts)
  end, extra)
end

--- Cancels the running turn of `agent_id` (default: the current agent).
function M.cancel(agent_id)
  agent_id = agent_id or vim.b.agy_agent or client.current
  local turn = agent_id and turns[agent_id]
  if not turn then
    -- Fall back to any running turn.
    for _, t in pairs(turns) do
      turn = t
    end
  end
  if not turn or not turn.request_id then
    vim.notify('agy: nothing to cancel', vim.log.levels.INFO)
    return false
  end
  turn.cancelling = true
  client.call(turn.client, 'cancel_request', turn.request_id)
  return true
end

--- Called from the LspRequest autocmd: a cancelled chat got its -32800 acknowledgement.
function M.on_request(data)
  if not data or not data.request or data.request.type ~= 'complete' then
    return
  end
  for _, turn in pairs(turns) do
    if turn.request_id == data.request_id and turn.client and turn.client.id == data.client_id and turn.cancelling then
      -- Let a real result (if one crossed the cancel) win; the ack carries no callback.
      vim.schedule(function()
        finish(turn, { code = -32800, message = 'cancelled' })
      end)
    end
  end
end

--- The running turn (of `agent_id`, or any), or nil.
function M.running(agent_id)
  if agent_id then
    return turns[agent_id]
  end
  return next(turns) and select(2, next(turns)) or nil
end

function M.on_server_exit()
  for _, turn in pairs(turns) do
    finish(turn, { code = -32011, message = 'the server exited' })
  end
  turns = {}
end

-- ------------------------------------------------------------------ history, agents

--- Opens a scratch buffer with the conversation of `agent_id` (agy/history).
function M.history(agent_id)
  agent_id = agent_id or client.current
  if not agent_id then
    vim.notify('agy: no agent yet (:AgyChat starts one)', vim.log.levels.INFO)
    return
  end
  client.request('agy/history', { agentId = agent_id }, function(err, result)
    if err then
      vim.notify('agy: history: ' .. client.message(err), vim.log.levels.ERROR)
      return
    end
    -- A step can be reported once per update (same id): keep its last version, in first-seen order.
    local order, latest = {}, {}
    for _, step in ipairs(result.steps or {}) do
      local key = step.id or tostring(#order)
      if not latest[key] then
        order[#order + 1] = key
      end
      latest[key] = step
    end
    local lines = { ('# agy history · %s · %d steps'):format(agent_id, #order), '' }
    for _, key in ipairs(order) do
      local step = latest[key]
      local who = (step.source ~= '' and step.source) or step.type or 'step'
      lines[#lines + 1] = ('## %d %s%s'):format(step.index or 0, who, (step.type and step.type ~= '' and step.type ~= who) and (' · ' .. step.type) or '')
      if step.thinking and step.thinking ~= '' then
        for _, l in ipairs(vim.split(step.thinking, '\n', { plain = true })) do
          lines[#lines + 1] = thought_prefix .. l
        end
      end
      if step.content and step.content ~= '' then
        vim.list_extend(lines, vim.split(step.content, '\n', { plain = true }))
      end
      for _, tc in ipairs(step.toolCalls or {}) do
        lines[#lines + 1] = ('  ⚙ %s %s'):format(tc.name or '?', fmt_args(tc.args))
      end
      if step.error and step.error ~= '' and step.error ~= step.content then
        lines[#lines + 1] = '  ✗ ' .. step.error
      end
      lines[#lines + 1] = ''
    end
    local buf = vim.api.nvim_create_buf(false, true)
    vim.bo[buf].buftype = 'nofile'
    vim.bo[buf].bufhidden = 'wipe'
    vim.bo[buf].syntax = 'markdown'
    vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
    vim.bo[buf].modifiable = false
    pcall(vim.api.nvim_buf_set_name, buf, 'agy://history/' .. agent_id)
    vim.b[buf].agy_agent = agent_id
    vim.cmd('botright split')
    vim.api.nvim_win_set_buf(0, buf)
    vim.keymap.set('n', 'q', '<cmd>close<cr>', { buffer = buf, nowait = true })
  end)
end

--- Lists the server's agents; picking one makes it the chat agent.
function M.agents()
  client.request('agy/listAgents', vim.empty_dict(), function(err, result)
    if err then
      vim.notify('agy: listAgents: ' .. client.message(err), vim.log.levels.ERROR)
      return
    end
    local agents = result.agents or {}
    if #agents == 0 then
      vim.notify('agy: no agents yet (:AgyChat or :AgyNew starts one)', vim.log.levels.INFO)
      return
    end
    vim.ui.select(agents, {
      prompt = 'agy agents',
      kind = 'agy.agents',
      format_item = function(a)
        local name = (a.name ~= nil and a.name ~= vim.NIL) and a.name or '-'
        return ('%s%s  %s  %s  %d turns'):format(a.agentId == client.current and '* ' or '  ', name, a.agentId, a.state, a.turnCount or 0)
      end,
    }, function(choice)
      if choice then
        client.agents[choice.agentId] = client.agents[choice.agentId] or { tokens = 0, state = choice.state }
        client.current = choice.agentId
        M.open(choice.agentId)
      end
    end)
  end)
end

--- Starts a fresh agent and opens its chat.
function M.new(cb)
  local n = vim.tbl_count(client.agents) + 1
  client.create_agent({ name = 'chat-' .. n }, function(id)
    if id then
      client.current = id
      M.open(id)
    end
    if cb then
      cb(id)
    end
  end)
end

return M
