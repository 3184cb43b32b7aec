-- :checkhealth agy
local M = {}

local presets = { safeDefaults = true, confirmRunCommand = true, allowAll = true, denyAll = true, workspaceOnly = true }
local backend_types = { gemini = true, vertex = true, openai = true, scripted = true }

local function check_backend(config)
  local backend = config.backend()
  if backend then
    local kind = backend.type
    if not backend_types[kind or ''] then
      vim.health.error(('backend.type %q is not one of gemini, vertex, openai, scripted'):format(tostring(kind)))
      return
    end
    local desc = kind .. (backend.model and (' · model ' .. backend.model) or '')
    if kind == 'openai' and not backend.baseUrl then
      vim.health.error('backend.baseUrl is required for type openai', { 'e.g. baseUrl = "http://127.0.0.1:11434/v1"' })
    elseif kind == 'gemini' and not backend.apiKey and not (vim.env.GEMINI_API_KEY or vim.env.GOOGLE_API_KEY) then
      vim.health.warn('backend gemini but no apiKey and no GEMINI_API_KEY in the environment')
    elseif kind == 'vertex' and not backend.apiKey and not (backend.project and backend.location) then
      vim.health.error('backend vertex needs project + location, or an express apiKey')
    else
      vim.health.ok('backend: ' .. desc)
    end
  elseif vim.env.AGY_BACKEND and vim.env.AGY_BACKEND ~= '' then
    vim.health.ok('backend from the environment: AGY_BACKEND=' .. vim.env.AGY_BACKEND)
  elseif (vim.env.GEMINI_API_KEY or '') ~= '' or (vim.env.GOOGLE_API_KEY or '') ~= '' then
    vim.health.ok('backend: gemini (GEMINI_API_KEY is set)')
  else
    vim.health.warn('no backend configured and no GEMINI_API_KEY: the server uses its built-in scripted model', {
      'set `backend` in require("agy").setup{}, or GEMINI_API_KEY / AGY_BACKEND in the environment',
    })
  end
  local policies = config.options.policies
  if type(policies) == 'string' and not presets[policies] then
    vim.health.error(('policies preset %q is unknown'):format(policies))
  elseif policies ~= nil then
    vim.health.ok('policies: ' .. (type(policies) == 'string' and policies or vim.json.encode(policies)))
  end
end

function M.check()
  local config = require('agy.config')
  local client = require('agy.client')

  vim.health.start('agy: Neovim')
  local v = vim.version()
  local vs = ('%d.%d.%d'):format(v.major, v.minor, v.patch)
  if vim.fn.has('nvim-0.10') == 1 then
    vim.health.ok('Neovim ' .. vs)
  else
    vim.health.error('Neovim ' .. vs .. ': agy needs Neovim >= 0.10')
  end

  vim.health.start('agy: server executable')
  local cmd = config.options.cmd or {}
  local exe = cmd[1] and vim.fn.exepath(cmd[1]) or ''
  if exe == '' then
    vim.health.error(('not executable: %s'):format(tostring(cmd[1])), {
      'pip install agy-lsp (or the repo: pip install -e .), or set cmd in require("agy").setup{}',
    })
  else
    vim.health.ok('found ' .. exe)
    local argv = vim.list_extend(vim.deepcopy(cmd), { '--version' })
    local ok, res = pcall(function()
      return vim.system(argv, { text = true, env = config.options.env }):wait(10000)
    end)
    local out = ok and res and vim.trim((res.stdout or '') .. (res.stderr or '')) or ''
    local version = out:match('agy%-lsp%s+(%S+)')
    if ok and res.code == 0 and version then
      vim.health.ok('version agy-lsp ' .. version)
    else
      vim.health.error(('`%s` failed: %s'):format(table.concat(argv, ' '), out ~= '' and out or 'no output'))
    end
  end

  vim.health.start('agy: configuration')
  check_backend(config)

  vim.health.start('agy: running server')
  if client.get() then
    local info, err = client.request_sync('agy/serverInfo', vim.empty_dict(), 5000)
    if info then
      local sdk = (info.sdkVersion and info.sdkVersion ~= vim.NIL) and info.sdkVersion or 'not installed'
      vim.health.ok(
        ('%s %s · SDK %s · default backend %s · state %s'):format(info.name, info.version, sdk, info.defaultBackend, info.stateDir)
      )
    else
      vim.health.error('agy/serverInfo failed: ' .. client.message(err))
    end
  else
    vim.health.info('not running (it starts on the first :AgyChat)')
  end
end

return M
