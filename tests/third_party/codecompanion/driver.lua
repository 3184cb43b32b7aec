-- Drives the real CodeCompanion.nvim the way a person would: open a chat, type, submit,
-- press the approval key. It only watches: every JSON-RPC line both ways, the files
-- CodeCompanion's fs handler read, and CodeCompanion's own User events.
T = { sent = {}, received = {}, reads = {}, events = {} }

-- Each message is tagged with its connection (CodeCompanion may start more than one agent
-- process: one to learn the agent's commands and modes when the chat opens).
local Connection = require("codecompanion.acp")
local conns = setmetatable({}, { __mode = "k" })
local function conn_id(self)
  if not conns[self] then
    T.connections = (T.connections or 0) + 1
    conns[self] = T.connections
  end
  return conns[self]
end
local write, handle = Connection.write_message, Connection.handle_rpc_message
Connection.write_message = function(self, data)
  local msg = vim.json.decode(vim.trim(data))
  msg.conn = conn_id(self)
  table.insert(T.sent, msg)
  return write(self, data)
end
Connection.handle_rpc_message = function(self, line)
  local ok, msg = pcall(vim.json.decode, line)
  if ok then
    msg.conn = conn_id(self)
    table.insert(T.received, msg)
  end
  return handle(self, line)
end

local fs = require("codecompanion.interactions.chat.acp.fs")
local read = fs.read_text_file
fs.read_text_file = function(path, opts)
  table.insert(T.reads, path)
  return read(path, opts)
end

vim.api.nvim_create_autocmd("User", {
  pattern = "CodeCompanion*",
  callback = function(ev)
    table.insert(T.events, ev.match)
  end,
})

function T.count(name)
  local n = 0
  for _, e in ipairs(T.events) do
    if e == name then
      n = n + 1
    end
  end
  return n
end

function T.open()
  T.chat = require("codecompanion").chat()
  return T.chat ~= nil
end

-- Type a message under the user header and submit it, as <C-s> does.
function T.say(text)
  T.chat:add_buf_message({ role = "user", content = text })
  T.chat:submit()
end

function T.wait(cond, ms)
  return vim.wait(ms or 60000, function()
    return load("return " .. cond)()
  end, 20)
end

-- Answer the approval prompt in the chat buffer by its key, as the person would.
function T.press(which)
  local key = require("codecompanion.interactions.chat.tools.labels").keymaps()[which]
  local map = vim.api.nvim_buf_call(T.chat.bufnr, function()
    return vim.fn.maparg(key, "n", false, true)
  end)
  assert(map.callback, "no approval key " .. key .. " in the chat buffer")
  vim.api.nvim_buf_call(T.chat.bufnr, map.callback)
  return key
end

function T.lines()
  return table.concat(vim.api.nvim_buf_get_lines(T.chat.bufnr, 0, -1, false), "\n")
end

function T.messages()
  return vim.fn.execute("messages")
end
