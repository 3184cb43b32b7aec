-- Blocks of the chat buffer that are not a plain append: a subagent's work, nested under the
-- tool call that delegated it, and the agent's plan, updated in place when it is rewritten.
-- Positions are extmarks (namespace agy.blocks), so text streaming elsewhere never moves them.
local M = {}

local hl_ns = vim.api.nvim_create_namespace('agy.blocks.hl')
local marks = vim.api.nvim_create_namespace('agy.blocks')

local function valid(buf)
  return buf and vim.api.nvim_buf_is_valid(buf)
end

local function row(buf, id)
  local pos = vim.api.nvim_buf_get_extmark_by_id(buf, marks, id, {})
  return pos[1]
end

--- A mark on `r` (a new one, or `id` moved there).
local function mark(buf, r, id)
  return vim.api.nvim_buf_set_extmark(buf, marks, r, 0, { id = id })
end

local function hl(buf, first, last, group)
  if not group then
    return
  end
  for r = first, last do
    vim.api.nvim_buf_set_extmark(buf, hl_ns, r, 0, { line_hl_group = group })
  end
end

local function scroll_if_last(buf, r)
  if r < vim.api.nvim_buf_line_count(buf) - 1 then
    return
  end
  for _, win in ipairs(vim.fn.win_findbuf(buf)) do
    pcall(vim.api.nvim_win_set_cursor, win, { r + 1, 0 })
  end
end

--- Inserts `lines` after row `after`; returns the first new row. A block that lands at the
--- end of the buffer makes the agent's own text start on a fresh line.
local function insert_after(turn, after, lines, group)
  local buf = turn.buf
  local at = after + 1
  local at_end = at >= vim.api.nvim_buf_line_count(buf)
  vim.api.nvim_buf_set_lines(buf, at, at, false, lines)
  hl(buf, at, at + #lines - 1, group)
  if at_end then
    turn.kind = 'block'
    scroll_if_last(buf, at + #lines - 1)
  end
  return at
end

local function short(value, max)
  local s = type(value) == 'string' and value or vim.json.encode(value)
  s = s:gsub('%s+', ' ')
  max = max or 100
  if #s > max then
    s = s:sub(1, max - 1) .. '…'
  end
  return s
end
M.short = short

local function fmt_args(args)
  if type(args) ~= 'table' or vim.tbl_isempty(args) then
    return ''
  end
  local parts = {}
  for k, v in vim.spairs(args) do
    parts[#parts + 1] = ('%s=%s'):format(k, short(v, 60))
  end
  return table.concat(parts, ' ')
end
M.fmt_args = fmt_args

local function present(v)
  return v ~= nil and v ~= vim.NIL and v ~= ''
end

-- ------------------------------------------------------------------ tool calls

--- Remembers the row of a tool call's line (its call, then its result), for nesting.
function M.track_call(turn, id, r, fields)
  if not id or id == vim.NIL then
    return
  end
  local call = turn.calls[id]
  if not call then
    call = { id = id, subs = {} }
    turn.calls[id] = call
  end
  call.mark = mark(turn.buf, r, call.mark)
  for k, v in pairs(fields or {}) do
    call[k] = v
  end
  return call
end

--- The lines of a tool call / result chunk, as the chat shows them.
function M.tool_text(p)
  if p.kind == 'toolCall' then
    local tc = p.toolCall or {}
    return ('⚙ %s %s'):format(tc.name or '?', fmt_args(tc.args)), 'AgyToolCall', tc.id
  end
  local tr = p.toolResult or {}
  if present(tr.error) then
    return ('✗ %s: %s'):format(tr.name or '?', short(tr.error)), 'AgyToolError', tr.id
  end
  local result = tr.result
  if result == nil or result == vim.NIL then
    result = 'ok'
  end
  return ('↳ %s: %s'):format(tr.name or '?', short(result)), 'AgyToolResult', tr.id
end

-- ------------------------------------------------------------------ subagents

--- The row after which the work under `call` ends (its line, then its subagents' blocks).
local function group_end(buf, call)
  local r = row(buf, call.mark)
  for _, sub in ipairs(call.subs) do
    r = math.max(r, row(buf, sub.last))
  end
  return r
end

local function sub_label(call, index)
  local args = call and type(call.args) == 'table' and call.args or {}
  local list = args.Subagents or args.subagents
  local spec = type(list) == 'table' and list[index] or nil
  if type(spec) ~= 'table' then
    return nil
  end
  local name = spec.Role or spec.role or spec.TypeName or spec.type_name or spec.name
  local kind = spec.TypeName or spec.type_name
  local label = name and tostring(name) or 'subagent'
  if kind and kind ~= name then
    label = ('%s (%s)'):format(label, kind)
  end
  local prompt = spec.Prompt or spec.prompt
  if present(prompt) then
    label = label .. ': ' .. short(prompt, 60)
  end
  return label
end

--- Grows the rows marked by `sub` and by every block it is nested in.
local function extend(turn, sub, last_row)
  local buf = turn.buf
  sub.last = mark(buf, last_row, sub.last)
  local parent = sub.parent and turn.subs[sub.parent]
  while parent do
    if row(buf, parent.last) < last_row then
      parent.last = mark(buf, last_row, parent.last)
    end
    parent = parent.parent and turn.subs[parent.parent]
  end
end

--- The block of trajectory `p.trajectoryId`, opened under its delegating call on first use.
local function sub_block(turn, p)
  local tid = p.trajectoryId
  if not present(tid) then
    tid = 'depth-' .. tostring(p.depth)
  end
  local sub = turn.subs[tid]
  if sub then
    return sub
  end
  local buf = turn.buf
  local parent_tid = present(p.parentTrajectoryId) and turn.subs[p.parentTrajectoryId] and p.parentTrajectoryId or nil
  -- The server names the delegating call from the subagent's first chunk on (parentCallId).
  local call = present(p.parentCallId) and turn.calls[p.parentCallId] or nil
  local depth = tonumber(p.depth) or 1
  local after
  if call then
    after = group_end(buf, call)
  elseif parent_tid then
    after = row(buf, turn.subs[parent_tid].last)
  else
    after = vim.api.nvim_buf_line_count(buf) - 1
  end
  local pad = string.rep('  ', depth + 1)
  local label = sub_label(call, call and #call.subs + 1 or 1) or ('subagent ' .. tid:sub(1, 8))
  local header = ('%s↳ subagent %s'):format(pad, label)
  local r = insert_after(turn, after, { header }, 'AgySubagentHeader')
  sub = {
    id = tid,
    depth = depth,
    pad = pad,
    parent = parent_tid,
    head = mark(buf, r),
    kind = nil,
    lines = 1,
  }
  sub.last = mark(buf, r)
  turn.subs[tid] = sub
  turn.sub_order[#turn.sub_order + 1] = sub
  if call then
    call.subs[#call.subs + 1] = sub
  end
  if parent_tid then
    extend(turn, sub, r)
  end
  return sub
end

--- Appends streamed text of `kind` to a subagent's block.
local function sub_write(turn, sub, kind, text)
  local buf = turn.buf
  local prefix = sub.pad .. (kind == 'thought' and '┆ ' or '│ ')
  local group = kind == 'thought' and 'AgyThought' or 'AgySubagent'
  local last = row(buf, sub.last)
  if sub.kind ~= kind then
    insert_after(turn, last, { prefix }, group)
    last = last + 1
    sub.kind = kind
  end
  local pieces = vim.split(text, '\n', { plain = true })
  for i = 2, #pieces do
    pieces[i] = prefix .. pieces[i]
  end
  -- Appended with set_text at the end of the line, so marks at its start stay on it.
  local cur = vim.api.nvim_buf_get_lines(buf, last, last + 1, false)[1] or ''
  vim.api.nvim_buf_set_text(buf, last, #cur, last, #cur, pieces)
  local new_last = last + #pieces - 1
  hl(buf, last + 1, new_last, group)
  extend(turn, sub, new_last)
  if new_last + 1 >= vim.api.nvim_buf_line_count(buf) then
    scroll_if_last(buf, new_last)
  end
  sub.lines = sub.lines + #pieces - 1
end

--- Appends one whole line to a subagent's block; returns its row.
local function sub_line(turn, sub, text, group)
  local r = insert_after(turn, row(turn.buf, sub.last), { sub.pad .. '│ ' .. text }, group)
  extend(turn, sub, r)
  sub.kind = 'tool'
  sub.lines = sub.lines + 1
  return r
end

--- A chunk of a subagent's work (`p.depth` > 0).
function M.subagent_chunk(turn, p)
  if not valid(turn.buf) then
    return
  end
  local sub = sub_block(turn, p)
  -- The agent's own text after a subagent's work starts on a new line (it is a new step).
  turn.kind = 'block'
  if p.kind == 'text' or p.kind == 'thought' then
    if p.kind == 'thought' and require('agy.config').options.chat.show_thoughts == false then
      return
    end
    if type(p.text) == 'string' and p.text ~= '' then
      sub_write(turn, sub, p.kind, p.text)
    end
  elseif p.kind == 'toolCall' or p.kind == 'toolResult' then
    local text, group, id = M.tool_text(p)
    local r = sub_line(turn, sub, text, group == 'AgyToolError' and group or 'AgySubagent')
    local fields = { trajectory = sub.id }
    if p.kind == 'toolCall' then
      fields.name = (p.toolCall or {}).name
      fields.args = (p.toolCall or {}).args
    end
    M.track_call(turn, id, r, fields)
  elseif p.kind == 'compaction' then
    sub_line(turn, sub, '⟲ ' .. M.compaction_text(p.text), 'AgyFooter')
  elseif p.kind == 'retry' then
    sub_line(turn, sub, '↻ ' .. (p.text or 'model request failed, retrying') .. '…', 'AgyFooter')
  elseif p.kind == 'plan' then
    M.plan(turn, p)
  end
end

--- A line for a call of a subagent (e.g. a confirmation outcome); false when `id` is the
--- agent's own call or unknown.
function M.sub_note(turn, id, text, group)
  local call = id and turn.calls[id]
  local sub = call and call.trajectory and turn.subs[call.trajectory]
  if not sub then
    return false
  end
  sub_line(turn, sub, text, group)
  return true
end

--- Folds each subagent block of `turn` in the windows that show the chat.
function M.fold_subagents(turn)
  local buf = turn.buf
  if not valid(buf) then
    return
  end
  for _, win in ipairs(vim.fn.win_findbuf(buf)) do
    vim.api.nvim_win_call(win, function()
      -- Innermost first, so that an outer fold contains closed inner ones.
      for i = #turn.sub_order, 1, -1 do
        local sub = turn.sub_order[i]
        local first, last = row(buf, sub.head), row(buf, sub.last)
        if last > first then
          pcall(vim.cmd, ('%d,%dfold'):format(first + 1, last + 1))
        end
      end
    end)
  end
end

--- The subagent blocks of `turn`: { { trajectoryId, depth, first, last, lines } } (rows 0-based).
function M.subagent_rows(turn)
  local out = {}
  for _, sub in ipairs(turn.sub_order) do
    out[#out + 1] = { trajectoryId = sub.id, depth = sub.depth, first = row(turn.buf, sub.head), last = row(turn.buf, sub.last) }
  end
  return out
end

-- ------------------------------------------------------------------ compaction

function M.compaction_text(text)
  if type(text) ~= 'string' or vim.trim(text) == '' then
    return 'older history was summarised'
  end
  return 'history compacted: ' .. short(vim.trim(text), 120)
end

-- ------------------------------------------------------------------ plans

local glyphs = {
  completed = { '✔', 'AgyPlanDone' },
  in_progress = { '◐', 'AgyPlanActive' },
  pending = { '○', 'AgyPlanPending' },
}
local status_of = { [' '] = 'pending', ['/'] = 'in_progress', x = 'completed', X = 'completed' }

--- The plan's lines and a highlight group per line.
function M.plan_lines(plan)
  local markdown = plan.markdown or ''
  local entries = type(plan.entries) == 'table' and plan.entries or {}
  local done = 0
  for _, e in ipairs(entries) do
    if e.status == 'completed' then
      done = done + 1
    end
  end
  local name = vim.fn.fnamemodify(plan.path or 'plan', ':t')
  local head = ('  ▤ plan · %s'):format(name)
  if #entries > 0 then
    head = head .. (' · %d/%d done'):format(done, #entries)
  end
  local lines, groups = { head }, { 'AgyPlanHeader' }
  local body = vim.split(markdown:gsub('%s+$', ''), '\n', { plain = true })
  for _, l in ipairs(body) do
    local indent, box, text = l:match('^(%s*)[-*]%s+%[([ xX/])%]%s+(.-)%s*$')
    if box then
      local g = glyphs[status_of[box]]
      lines[#lines + 1] = ('  ┃ %s%s %s'):format(indent, g[1], text)
      groups[#groups + 1] = g[2]
    else
      lines[#lines + 1] = l == '' and '  ┃' or ('  ┃ ' .. l)
      groups[#groups + 1] = 'AgyPlan'
    end
  end
  return lines, groups
end

--- A `plan` chunk: the plan's block at the end of the turn, or its block updated in place
--- when this turn already showed that file.
function M.plan(turn, p)
  local buf = turn.buf
  local plan = type(p.plan) == 'table' and p.plan or { path = 'plan', markdown = p.text or '' }
  if not present(plan.markdown) and type(p.text) == 'string' then
    plan.markdown = p.text
  end
  local key = plan.path or 'plan'
  local lines, groups = M.plan_lines(plan)
  local block = turn.plans[key]
  if block then
    local first, last = row(buf, block.head), row(buf, block.last)
    vim.api.nvim_buf_clear_namespace(buf, hl_ns, first, last + 1)
    vim.api.nvim_buf_set_lines(buf, first, last + 1, false, lines)
    block.head = mark(buf, first, block.head)
    block.last = mark(buf, first + #lines - 1, block.last)
    for i, g in ipairs(groups) do
      hl(buf, first + i - 1, first + i - 1, g)
    end
    if first + #lines >= vim.api.nvim_buf_line_count(buf) then
      turn.kind = 'block'
    end
  else
    local n = vim.api.nvim_buf_line_count(buf)
    local first = insert_after(turn, n - 1, lines, nil)
    for i, g in ipairs(groups) do
      hl(buf, first + i - 1, first + i - 1, g)
    end
    block = { head = mark(buf, first), last = mark(buf, first + #lines - 1) }
    turn.plans[key] = block
  end
  block.plan = plan
  turn.plan = plan
  return block
end

function M.new_turn_state(turn)
  turn.calls = {}
  turn.subs = {}
  turn.sub_order = {}
  turn.plans = {}
end

M.ns = marks
M.hl_ns = hl_ns

return M
