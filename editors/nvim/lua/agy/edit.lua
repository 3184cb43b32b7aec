-- :'<,'>AgyEdit {instruction}: the selection plus the instruction go to an edit agent; its
-- replacement is shown as a diff preview, and the person accepts or rejects it.
local client = require('agy.client')

local M = {}

local ns = vim.api.nvim_create_namespace('agy.edit')

M.agent = nil
M.running = nil
--- The last edit { status = 'accepted'|'rejected'|'error'|'cancelled', old, new, error }.
M.last = nil

local function edit_agent(cb)
  if M.agent and client.agents[M.agent] then
    return cb(M.agent)
  end
  client.create_agent({ name = 'edit' }, function(id)
    M.agent = id
    cb(id)
  end)
end

--- The replacement in a reply: the first fenced code block, else the whole text.
function M.extract(text)
  text = text or ''
  local body = text:match('```[^\n]*\n(.-)\n?```')
  if body then
    return body
  end
  return (text:gsub('^%s*\n', ''):gsub('%s+$', ''))
end

local function prompt_for(buf, l1, l2, lines, instruction)
  local path = vim.api.nvim_buf_get_name(buf)
  path = path ~= '' and vim.fn.fnamemodify(path, ':~:.') or '[No Name]'
  local ft = vim.bo[buf].filetype
  return table.concat({
    ('Edit lines %d-%d of %s as instructed. Reply with only the replacement text for those lines, in one fenced code block, nothing else.'):format(
      l1,
      l2,
      path
    ),
    '',
    'Instruction: ' .. instruction,
    '',
    '```' .. ft,
    table.concat(lines, '\n'),
    '```',
  }, '\n')
end

local function done(status, extra)
  M.running = nil
  M.last = vim.tbl_extend('force', { status = status }, extra or {})
  vim.api.nvim_exec_autocmds('User', { pattern = 'AgyEditDone', modeline = false, data = M.last })
end

local function open_preview(buf, old, new)
  local path = vim.api.nvim_buf_get_name(buf)
  path = path ~= '' and vim.fn.fnamemodify(path, ':~:.') or ('buffer ' .. buf)
  local diff = (vim.text and vim.text.diff or vim.diff)(table.concat(old, '\n') .. '\n', table.concat(new, '\n') .. '\n', { result_type = 'unified' })
  local lines = { '--- a/' .. path, '+++ b/' .. path }
  vim.list_extend(lines, vim.split(diff or '', '\n', { plain = true, trimempty = true }))
  local pbuf = vim.api.nvim_create_buf(false, true)
  vim.bo[pbuf].bufhidden = 'wipe'
  vim.api.nvim_buf_set_lines(pbuf, 0, -1, false, lines)
  vim.bo[pbuf].filetype = 'diff'
  vim.bo[pbuf].modifiable = false
  pcall(vim.api.nvim_buf_set_name, pbuf, 'agy://edit-preview/' .. pbuf)
  local prev = vim.api.nvim_get_current_win()
  vim.cmd('botright ' .. math.min(#lines + 1, math.max(5, math.floor(vim.o.lines / 2))) .. 'split')
  local win = vim.api.nvim_get_current_win()
  vim.api.nvim_win_set_buf(win, pbuf)
  vim.api.nvim_set_current_win(prev)
  return pbuf, win
end

--- Starts an edit of lines l1..l2 (1-based, inclusive) of the current buffer.
function M.run(l1, l2, instruction)
  if not instruction or instruction == '' then
    vim.notify('agy: :AgyEdit needs an instruction', vim.log.levels.WARN)
    return
  end
  if M.running then
    vim.notify('agy: an edit is already running', vim.log.levels.WARN)
    return
  end
  local buf = vim.api.nvim_get_current_buf()
  local old = vim.api.nvim_buf_get_lines(buf, l1 - 1, l2, false)
  local last_len = #(old[#old] or '')
  -- Track the range through later changes of the buffer.
  local mark = vim.api.nvim_buf_set_extmark(buf, ns, l1 - 1, 0, { end_row = l2 - 1, end_col = last_len, right_gravity = false, end_right_gravity = true })
  M.running = { buf = buf, mark = mark }
  vim.api.nvim_echo({ { ('agy: editing lines %d-%d…'):format(l1, l2), 'Comment' } }, false, {})
  edit_agent(function(agent_id)
    if not agent_id then
      return done('error', { error = 'no edit agent' })
    end
    client.request('agy/chat', { agentId = agent_id, prompt = prompt_for(buf, l1, l2, old, instruction) }, function(err, result)
      if err then
        pcall(vim.api.nvim_buf_del_extmark, buf, ns, mark)
        vim.notify('agy: edit failed: ' .. client.message(err), vim.log.levels.ERROR)
        return done('error', { error = client.message(err) })
      end
      local new = vim.split(M.extract(result and result.text), '\n', { plain = true })
      M.review(buf, mark, old, new)
    end, function(id, c)
      if M.running then
        M.running.request_id = id
        M.running.client = c
      end
    end)
  end)
end

--- Shows the diff and asks to accept or reject it.
function M.review(buf, mark, old, new)
  local pbuf, pwin = open_preview(buf, old, new)
  vim.ui.select({ 'Accept', 'Reject' }, { prompt = 'agy: apply this edit?', kind = 'agy.edit' }, function(choice)
    if pwin and vim.api.nvim_win_is_valid(pwin) then
      vim.api.nvim_win_close(pwin, true)
    end
    if pbuf and vim.api.nvim_buf_is_valid(pbuf) then
      pcall(vim.api.nvim_buf_delete, pbuf, { force = true })
    end
    local pos = vim.api.nvim_buf_is_valid(buf) and vim.api.nvim_buf_get_extmark_by_id(buf, ns, mark, { details = true })
    pcall(vim.api.nvim_buf_del_extmark, buf, ns, mark)
    if choice ~= 'Accept' then
      return done('rejected', { old = old, new = new })
    end
    if not pos or not pos[1] then
      vim.notify('agy: the edited range is gone', vim.log.levels.ERROR)
      return done('error', { error = 'range gone', old = old, new = new })
    end
    local start_row, end_row = pos[1], pos[3].end_row or pos[1]
    vim.api.nvim_buf_set_lines(buf, start_row, end_row + 1, false, new)
    done('accepted', { old = old, new = new })
  end)
end

--- Cancels a running edit request.
function M.cancel()
  local r = M.running
  if r and r.request_id and r.client then
    client.call(r.client, 'cancel_request', r.request_id)
    pcall(vim.api.nvim_buf_del_extmark, r.buf, ns, r.mark)
    done('cancelled')
    return true
  end
  return false
end

return M
