-- Test-side helpers, loaded into the Neovim under test with :luafile.
local T = {}
_G.T = T

T.selects = {} -- every vim.ui.select call: { prompt, kind, items, floats }
T.answer = nil -- function(items, opts) -> the chosen item

local function floats()
  local out = {}
  for _, w in ipairs(vim.api.nvim_list_wins()) do
    if vim.api.nvim_win_get_config(w).relative ~= '' then
      out[#out + 1] = table.concat(vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(w), 0, -1, false), '\n')
    end
  end
  return out
end

local function windows()
  local out = {}
  for _, w in ipairs(vim.api.nvim_list_wins()) do
    local b = vim.api.nvim_win_get_buf(w)
    out[#out + 1] = { name = vim.api.nvim_buf_get_name(b), ft = vim.bo[b].filetype, text = table.concat(vim.api.nvim_buf_get_lines(b, 0, -1, false), '\n') }
  end
  return out
end

vim.ui.select = function(items, opts, cb)
  T.selects[#T.selects + 1] = { prompt = opts.prompt, kind = opts.kind, items = items, floats = floats(), windows = windows() }
  local choice = T.answer and T.answer(items, opts) or items[1]
  cb(choice)
end

--- Streams: every chunk with the chat buffer's last line right after it was rendered.
T.seen = {}
local chat = require('agy.chat')
local on_chunk = chat.on_chunk
chat.on_chunk = function(p)
  local running = chat.running(p.agentId)
  on_chunk(p)
  if not running then
    return
  end
  local buf = running.buf
  local n = vim.api.nvim_buf_line_count(buf)
  T.seen[#T.seen + 1] = {
    seq = p.seq,
    kind = p.kind,
    text = p.text,
    depth = p.depth,
    trajectoryId = p.trajectoryId,
    last = vim.api.nvim_buf_get_lines(buf, n - 1, n, false)[1],
  }
end

--- Every request the plugin sent: { method, params }.
T.sent = {}
local client = require('agy.client')
local request = client.request
client.request = function(method, params, ...)
  T.sent[#T.sent + 1] = { method = method, params = params }
  return request(method, params, ...)
end

--- Every vim.notify: { msg, level }.
T.notes = {}
local notify = vim.notify
vim.notify = function(msg, level, opts)
  T.notes[#T.notes + 1] = { msg = msg, level = level }
  return notify(msg, level, opts)
end

--- The params of the requests sent with `method`.
function T.sent_params(method)
  local out = {}
  for _, r in ipairs(T.sent) do
    if r.method == method then
      out[#out + 1] = r.params
    end
  end
  return out
end

--- Line highlight groups of row `row` (0-based) of the current agent's chat buffer.
function T.line_hl(row)
  local buf = require('agy.chat').buffer(T.current())
  local out = {}
  for _, m in ipairs(vim.api.nvim_buf_get_extmarks(buf, -1, { row, 0 }, { row, -1 }, { details = true })) do
    if m[4].line_hl_group then
      out[#out + 1] = m[4].line_hl_group
    end
  end
  return out
end

function T.setup(opts)
  require('agy').setup(opts)
end

function T.current()
  return require('agy.client').current
end

--- Waits for the current agent's turn to finish; returns the turn info.
function T.wait_turn(timeout)
  local ok = vim.wait(timeout or 20000, function()
    local id = T.current()
    return id ~= nil and require('agy.chat').last[id] ~= nil and not require('agy.chat').running(id)
  end, 10)
  assert(ok, 'the turn did not finish')
  local info = require('agy.chat').last[T.current()]
  require('agy.chat').last[T.current()] = nil
  return info
end

function T.chat_lines()
  local buf = require('agy.chat').buffer(T.current())
  return vim.api.nvim_buf_get_lines(buf, 0, -1, false)
end

--- True when a line of the chat buffer matches the Lua pattern `pattern`.
function T.chat_has(pattern)
  for _, line in ipairs(T.chat_lines()) do
    if line:match(pattern) then
      return true
    end
  end
  return false
end

function T.wait(cond_src, timeout)
  local cond = assert(loadstring('return ' .. cond_src))
  return vim.wait(timeout or 20000, function()
    local ok, v = pcall(cond)
    return ok and v
  end, 10)
end

function T.proc_children(pid)
  return vim.api.nvim_get_proc_children(pid or vim.fn.getpid())
end

return T
