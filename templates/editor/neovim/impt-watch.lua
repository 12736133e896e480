-- impt watch for Neovim: runs `impt watch -z json` in the project's directory and turns its
-- JSON events (one object per line) into diagnostics: compile errors and the runtime error
-- frames that impt maps to your files. Fixed problems clear on the next change.
--
-- Install: copy this file to ~/.config/nvim/lua/impt_watch.lua, then in init.lua:
--   require("impt_watch").setup()        -- :ImptWatch starts, :ImptWatchStop stops
-- Extra arguments go to impt: :ImptWatch --sim .   or   :ImptWatch -g MyDevDG

local M = {}
local ns = vim.api.nvim_create_namespace("impt")
local job = nil

-- Diagnostics by buffer number, rebuilt from the events since the last change.
local found = {}

local function bufnr_of(file, cwd)
  local path = file
  if not vim.startswith(path, "/") then
    path = cwd .. "/" .. path
  end
  local b = vim.fn.bufadd(path)
  vim.fn.bufload(b)
  return b
end

local function publish()
  vim.diagnostic.reset(ns)
  for b, list in pairs(found) do
    vim.diagnostic.set(ns, b, list)
  end
end

local function add(file, line, col, severity, message, cwd)
  local b = bufnr_of(file, cwd)
  found[b] = found[b] or {}
  table.insert(found[b], {
    lnum = math.max(line - 1, 0),
    col = math.max((col or 1) - 1, 0),
    severity = severity,
    message = message,
    source = "impt",
  })
end

local function on_event(ev, cwd)
  local e = ev.event
  if e == "changed" then
    found = {}                                   -- a new iteration: fixed problems clear
    publish()
  elseif e == "compile_error" then
    for _, d in ipairs(ev.errors) do
      local sev = d.severity == "warning" and vim.diagnostic.severity.WARN
        or vim.diagnostic.severity.ERROR
      add(d.file, d.line, d.column, sev, d.message, cwd)
    end
    publish()
  elseif e == "log" and ev.file and ev.line then
    -- A runtime error frame mapped to your file: "ERROR:   at lib.nut:3 (boom)".
    local sev = ev.msg:match("^ERROR:%s+at ") and vim.diagnostic.severity.ERROR
      or vim.diagnostic.severity.INFO
    add(ev.file, ev.line, 1, sev, ev.msg, cwd)
    publish()
  elseif e == "deployed" then
    vim.notify(("impt: deployed %s in %d ms"):format(ev.sha:sub(1, 8), ev.ms))
  elseif e == "error" or e == "stream_lost" then
    vim.notify("impt: " .. (ev.message or ev.reason), vim.log.levels.WARN)
  end
end

function M.start(args)
  if job then
    vim.notify("impt watch is already running")
    return
  end
  local cwd = vim.fn.getcwd()
  local cmd = { "impt", "watch", "-z", "json" }
  vim.list_extend(cmd, args or {})
  job = vim.fn.jobstart(cmd, {
    cwd = cwd,
    stdout_buffered = false,
    on_stdout = function(_, lines)
      for _, line in ipairs(lines) do
        if line ~= "" then
          local ok, ev = pcall(vim.json.decode, line)
          if ok and type(ev) == "table" then
            on_event(ev, cwd)
          end
        end
      end
    end,
    on_exit = function()
      job = nil
    end,
  })
end

function M.stop()
  if job then
    vim.fn.chansend(job, "q\n")                 -- impt watch reads keys as lines on stdin
  end
end

function M.setup()
  vim.api.nvim_create_user_command("ImptWatch", function(o)
    M.start(o.fargs)
  end, { nargs = "*" })
  vim.api.nvim_create_user_command("ImptWatchStop", M.stop, {})
  vim.api.nvim_create_user_command("ImptRedeploy", function()
    if job then
      vim.fn.chansend(job, "r\n")
    end
  end, {})
end

return M
