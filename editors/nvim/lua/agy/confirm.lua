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

--- `s` with every character that could hide or rewrite text written as an escape:
--- C0/C1 controls and DEL (`\x1b`, `\r`), bidi overrides and zero-width marks (`\u202e`).
--- Newlines and tabs stay.
function M.visible(s)
  s = s:gsub('[%z\1-\8\11-\31\127]', function(c)
    return c == '\r' and '\\r' or ('\\x%02x'):format(c:byte())
  end)
  s = s:gsub('\194([\128-\159])', function(c) -- C1 controls, U+0080..U+009F
    return ('\\x%02x'):format(c:byte())
  end)
  local function u(code)
    return ('\\u%04x'):format(code)
  end
  s = s:gsub('\226\128([\139-\143\168-\174])', function(c) -- U+200B..200F, U+2028..202E
    return u(0x2000 + c:byte() - 128)
  end)
  s = s:gsub('\226\129([\160-\164\166-\175])', function(c) -- U+2060..2064, U+2066..206F
    return u(0x2040 + c:byte() - 128)
  end)
  s = s:gsub('\239\187\191', function() -- U+FEFF
    return u(0xfeff)
  end)
  return s
end

--- The whole call, every argument in full (nothing is cut: the question may not
--- hide anything), multi-line values line by line, then the diff of a file write.
function M.preview_lines(p)
  local tc = p.toolCall or {}
  local lines = { ('Tool: %s'):format(M.visible(tc.name or '?')) }
  if p.reason and p.reason ~= vim.NIL and p.reason ~= '' then
    vim.list_extend(lines, vim.split('Reason: ' .. M.visible(p.reason), '\n', { plain = true }))
  end
  local args = type(tc.args) == 'table' and tc.args or {}
  for k, v in vim.spairs(args) do
    local s = M.visible(type(v) == 'string' and v or vim.json.encode(v))
    local parts = vim.split(s, '\n', { plain = true })
    if #parts == 1 then
      lines[#lines + 1] = ('  %s: %s'):format(M.visible(tostring(k)), parts[1])
    else
      lines[#lines + 1] = ('  %s: (%d lines)'):format(M.visible(tostring(k)), #parts)
      for _, part in ipairs(parts) do
        lines[#lines + 1] = '    ' .. part
      end
    end
  end
  local diff = M.file_diff(tc)
  if diff then
    lines[#lines + 1] = ''
    vim.list_extend(lines, vim.split(M.visible(diff), '\n', { plain = true, trimempty = true }))
  end
  return lines, diff ~= nil
end

--- The preview float: every line, wrapped; `whole` is false when it holds more
--- rows than the screen has room for.
local function open_preview(p)
  local lines, has_diff = M.preview_lines(p)
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
  local rows = 0
  for _, l in ipairs(lines) do
    rows = rows + math.max(1, math.ceil(vim.fn.strdisplaywidth(l) / width))
  end
  local room = math.max(3, vim.o.lines - 8)
  local ok, win = pcall(vim.api.nvim_open_win, buf, false, {
    relative = 'editor',
    row = 1,
    col = math.max(0, math.floor((vim.o.columns - width) / 2)),
    width = width,
    height = math.min(rows, room),
    border = 'rounded',
    title = ' agy: confirm tool call ',
    style = 'minimal',
    zindex = 60,
  })
  if ok then
    vim.wo[win].wrap = true
    local shown = vim.api.nvim_win_text_height(win, {}).all
    return ok and win or nil, shown <= math.min(rows, room), lines
  end
  return nil, false, lines
end

--- The whole call in a tab of its own, to read and scroll; calls `done` when the
--- person closes it.
local function open_whole(lines, done)
  vim.cmd('tabnew')
  local buf = vim.api.nvim_get_current_buf()
  vim.bo[buf].buftype = 'nofile'
  vim.bo[buf].bufhidden = 'wipe'
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.bo[buf].modifiable = false
  pcall(vim.api.nvim_buf_set_name, buf, ('agy://confirm/%d'):format(buf))
  vim.api.nvim_echo({ { 'agy: the whole tool call; close this tab (:tabclose) to answer', 'WarningMsg' } }, false, {})
  vim.api.nvim_create_autocmd('BufWipeout', { buffer = buf, once = true, callback = vim.schedule_wrap(done) })
end

local READ = { name = 'Read the whole call first (opens a tab)', read = true }

--- The items to offer and the prompt. When the preview cannot show the whole call,
--- the prompt says so, Reject comes first (the default of pickers that preselect),
--- and "Read the whole call first" opens it in a tab.
local function question(p, seen, total, can_read)
  local tc = p.toolCall or {}
  local name = M.visible(tc.name or '?')
  local items = vim.deepcopy(p.options or {})
  if seen then
    return items, ('agy: allow %s? (%s)'):format(name, seen)
  end
  local first, rest = {}, {}
  for _, o in ipairs(items) do
    table.insert(o.kind == 'reject_once' and first or rest, o)
  end
  if can_read then
    first[#first + 1] = READ
  end
  items = vim.list_extend(first, rest)
  local prompt = ('agy: allow %s? The call is %d lines, more than the preview shows: %s'):format(
    name,
    total,
    can_read and 'read it whole first, or Reject' or 'Reject unless you have read it all'
  )
  return items, prompt
end

--- Handler of agy/confirmToolCall; returns { outcome = optionId | 'cancelled' }.
function M.handle(p)
  local tc = p.toolCall or {}
  local win, whole, lines = open_preview(p)
  local seen = whole and 'the whole call is in the preview' or nil
  local co = coroutine.running()
  local answer
  while true do
    local items, prompt = question(p, seen, #lines, co ~= nil)
    local answered, choice, yielded = false, nil, false
    vim.ui.select(items, {
      prompt = prompt,
      kind = 'agy.confirm',
      format_item = function(o)
        return o.name or o.optionId
      end,
    }, function(c)
      choice = c
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
    if not (choice and choice.read) then
      answer = choice and (choice.optionId or choice.kind) or 'cancelled'
      break
    end
    if win and vim.api.nvim_win_is_valid(win) then
      vim.api.nvim_win_close(win, true)
      win = nil
    end
    seen = 'you have read the whole call'
    open_whole(lines, function()
      coroutine.resume(co)
    end)
    coroutine.yield()
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
