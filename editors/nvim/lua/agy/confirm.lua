-- agy/confirmToolCall: ask the person with vim.ui.select, previewing the call (and a diff
-- when the tool writes a file). Runs inside the coroutine Neovim gives server requests, so an
-- asynchronous vim.ui.select (telescope, fzf-lua, snacks, dressing) works too.
local M = {}

--- The last answered confirmation { toolCall, outcome } (for scripts and tests).
M.last = nil
M.history = {}

local function read_file(path)
  local f = io.open(path, 'r')
  if not f then
    return nil
  end
  local text = f:read('*a')
  f:close()
  return text
end

local path_keys = { 'TargetFile', 'AbsolutePath', 'FilePath', 'path', 'file_path', 'filePath', 'file', 'target_file' }
local content_keys = { 'CodeContent', 'FileContent', 'content', 'contents', 'file_text', 'text' }
local old_keys = { 'TargetContent', 'old_string', 'oldString', 'old_str', 'search' }
local new_keys = { 'ReplacementContent', 'new_string', 'newString', 'new_str', 'replace' }

local function first(args, keys)
  for _, k in ipairs(keys) do
    if type(args[k]) == 'string' then
      return args[k]
    end
  end
end

--- A unified diff for a tool call that writes a file, or nil.
function M.file_diff(tool_call)
  local args = type(tool_call.args) == 'table' and tool_call.args or {}
  local path = first(args, path_keys)
  if not path then
    return nil
  end
  local old = read_file(path) or ''
  local new = first(args, content_keys)
  if not new then
    local a, b = first(args, old_keys), first(args, new_keys)
    if not (a and b) then
      return nil
    end
    local s, e = old:find(a, 1, true)
    if not s then
      return nil
    end
    new = old:sub(1, s - 1) .. b .. old:sub(e + 1)
  end
  local diff = (vim.text and vim.text.diff or vim.diff)(old, new, { result_type = 'unified', ctxlen = 3 })
  if type(diff) ~= 'string' or diff == '' then
    return nil
  end
  return ('--- a/%s\n+++ b/%s\n%s'):format(path, path, diff)
end

local function preview_lines(p)
  local tc = p.toolCall or {}
  local lines = { ('Tool: %s'):format(tc.name or '?') }
  if p.reason and p.reason ~= vim.NIL and p.reason ~= '' then
    lines[#lines + 1] = 'Reason: ' .. p.reason
  end
  local args = type(tc.args) == 'table' and tc.args or {}
  for k, v in vim.spairs(args) do
    local s = type(v) == 'string' and v or vim.json.encode(v)
    local parts = vim.split(s, '\n', { plain = true })
    lines[#lines + 1] = ('  %s: %s'):format(k, parts[1])
    for i = 2, math.min(#parts, 8) do
      lines[#lines + 1] = '    ' .. parts[i]
    end
    if #parts > 8 then
      lines[#lines + 1] = ('    … %d more lines'):format(#parts - 8)
    end
  end
  local diff = M.file_diff(tc)
  if diff then
    lines[#lines + 1] = ''
    vim.list_extend(lines, vim.split(diff, '\n', { plain = true, trimempty = true }))
  end
  return lines, diff ~= nil
end

local function open_preview(p)
  local lines, has_diff = preview_lines(p)
  local buf = vim.api.nvim_create_buf(false, true)
  vim.bo[buf].bufhidden = 'wipe'
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  if has_diff then
    vim.bo[buf].filetype = 'diff'
  end
  local width = 20
  for _, l in ipairs(lines) do
    width = math.max(width, vim.fn.strdisplaywidth(l))
  end
  width = math.min(width + 2, math.max(20, vim.o.columns - 4))
  local height = math.min(#lines, math.max(3, vim.o.lines - 8))
  local ok, win = pcall(vim.api.nvim_open_win, buf, false, {
    relative = 'editor',
    row = 1,
    col = math.max(0, math.floor((vim.o.columns - width) / 2)),
    width = width,
    height = height,
    border = 'rounded',
    title = ' agy: confirm tool call ',
    style = 'minimal',
    zindex = 60,
  })
  return buf, ok and win or nil
end

--- Handler of agy/confirmToolCall; returns { outcome = optionId | 'cancelled' }.
function M.handle(p)
  local tc = p.toolCall or {}
  local _, win = open_preview(p)
  local co = coroutine.running()
  local answered, answer, yielded = false, nil, false
  local prompt = ('agy: allow %s %s?'):format(tc.name or '?', vim.json.encode(tc.args or vim.empty_dict()))
  vim.ui.select(p.options or {}, {
    prompt = prompt,
    kind = 'agy.confirm',
    format_item = function(o)
      return o.name or o.optionId
    end,
  }, function(choice)
    answer = choice and (choice.optionId or choice.kind) or 'cancelled'
    answered = true
    if yielded then
      coroutine.resume(co)
    end
  end)
  if not answered then
    if co then
      yielded = true
      coroutine.yield()
    else
      vim.wait(24 * 3600 * 1000, function()
        return answered
      end, 50)
    end
  end
  if win and vim.api.nvim_win_is_valid(win) then
    vim.api.nvim_win_close(win, true)
  end
  local label = answer
  for _, o in ipairs(p.options or {}) do
    if o.optionId == answer then
      label = o.name or answer
      local rejected = (o.kind or ''):match('^reject')
      require('agy.chat').note(
        p.agentId,
        ('  %s %s: %s'):format(rejected and '✗' or '✓', tc.name or '?', label),
        rejected and 'AgyToolError' or 'AgyToolResult',
        tc.id
      )
    end
  end
  if answer == 'cancelled' then
    require('agy.chat').note(p.agentId, ('  ✗ %s: not confirmed'):format(tc.name or '?'), 'AgyToolError', tc.id)
  end
  M.last = { toolCall = tc, outcome = answer, options = p.options }
  M.history[#M.history + 1] = M.last
  return { outcome = answer }
end

return M
