-- Built-in editor tools served through agy/runTool: the buffer the person is editing,
-- their last visual selection, and a buffer's diagnostics.
local M = {}

--- The last ordinary file buffer the person was in (the chat buffer is never it).
M.source_buf = nil

function M.track(buf)
  if vim.api.nvim_buf_is_valid(buf) and vim.bo[buf].buftype == '' and not vim.b[buf].agy_agent then
    M.source_buf = buf
  end
end

local function source()
  local buf = M.source_buf
  if buf and vim.api.nvim_buf_is_valid(buf) then
    return buf
  end
  buf = vim.api.nvim_get_current_buf()
  return buf
end

local function name(buf)
  local n = vim.api.nvim_buf_get_name(buf)
  return n ~= '' and vim.fn.fnamemodify(n, ':~:.') or ('[buffer %d]'):format(buf)
end

local empty = vim.empty_dict

M.tools = {
  editor_current_buffer = {
    description = 'The text of the file the person is editing in Neovim, with its path and filetype.',
    parameters = { type = 'object', properties = empty() },
    run = function()
      local buf = source()
      local lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
      return ('%s (%s, %d lines)\n%s'):format(name(buf), vim.bo[buf].filetype, #lines, table.concat(lines, '\n'))
    end,
  },
  editor_selection = {
    description = "The person's last visual selection in Neovim, with its file and line range.",
    parameters = { type = 'object', properties = empty() },
    run = function()
      local buf = source()
      local s = vim.api.nvim_buf_get_mark(buf, '<')
      local e = vim.api.nvim_buf_get_mark(buf, '>')
      if s[1] == 0 or e[1] == 0 then
        return nil, 'nothing is selected'
      end
      local lines = vim.api.nvim_buf_get_lines(buf, s[1] - 1, e[1], false)
      return ('%s lines %d-%d\n%s'):format(name(buf), s[1], e[1], table.concat(lines, '\n'))
    end,
  },
  editor_diagnostics = {
    description = 'Diagnostics (errors, warnings, hints) Neovim shows for a file; default: the current file.',
    parameters = {
      type = 'object',
      properties = { path = { type = 'string', description = 'a file path; omit for the current file' } },
    },
    run = function(args)
      local buf = source()
      if args and type(args.path) == 'string' and args.path ~= '' then
        buf = vim.fn.bufnr(args.path)
        if buf == -1 then
          return nil, 'no buffer for ' .. args.path
        end
      end
      local out = {}
      for _, d in ipairs(vim.diagnostic.get(buf)) do
        local sev = vim.diagnostic.severity[d.severity] or tostring(d.severity)
        out[#out + 1] = ('%s:%d:%d: %s: %s'):format(name(buf), d.lnum + 1, d.col + 1, sev, d.message)
      end
      if #out == 0 then
        return ('%s: no diagnostics'):format(name(buf))
      end
      return table.concat(out, '\n')
    end,
  },
}

--- The createAgent `tools` list.
function M.specs()
  local specs = {}
  for tool_name, tool in vim.spairs(M.tools) do
    specs[#specs + 1] = { name = tool_name, description = tool.description, parameters = tool.parameters }
  end
  return specs
end

--- Handler of agy/runTool.
function M.run(p)
  local tc = p.toolCall or {}
  local tool = M.tools[tc.name]
  if not tool then
    return { error = 'unknown editor tool: ' .. tostring(tc.name) }
  end
  local ok, content, err = pcall(tool.run, type(tc.args) == 'table' and tc.args or {})
  if not ok then
    return { error = tostring(content) }
  end
  if err then
    return { error = err }
  end
  return { content = content }
end

return M
