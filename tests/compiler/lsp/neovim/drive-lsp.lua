-- Drives moec's language server from Neovim's built-in LSP client (0.7 API), headless.
-- Inputs come from environment variables; results are written as JSON to MOE_OUT.
local file, out = vim.env.MOE_FILE, vim.env.MOE_OUT
local results = { errors = {} }
local function finish()
  local f = io.open(out, "w")
  f:write(vim.fn.json_encode(results))
  f:close()
  vim.cmd("qa!")
end
local ok, err = pcall(function()
  vim.cmd("edit " .. vim.fn.fnameescape(file))
  local bufnr = vim.api.nvim_get_current_buf()
  local client_id = vim.lsp.start_client({
    name = "moec",
    cmd = { vim.env.NODE_BIN, vim.env.MOEC_BIN, "lsp", "--stdio" },
    root_dir = vim.fn.fnamemodify(file, ":h"),
  })
  vim.lsp.buf_attach_client(bufnr, client_id)
  vim.wait(15000, function() return #vim.diagnostic.get(bufnr) > 0 end, 50)
  results.diagnostics = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    table.insert(results.diagnostics, { lnum = d.lnum, col = d.col, message = d.message, code = d.code })
  end
  local uri = vim.uri_from_bufnr(bufnr)
  local hover = vim.lsp.buf_request_sync(bufnr, "textDocument/hover", {
    textDocument = { uri = uri },
    position = { line = tonumber(vim.env.HOVER_LINE), character = tonumber(vim.env.HOVER_COL) },
  }, 15000)
  for _, r in pairs(hover or {}) do
    if r.result then results.hover = r.result.contents.value end
    if r.err then table.insert(results.errors, vim.inspect(r.err)) end
  end
  local syms = vim.lsp.buf_request_sync(bufnr, "textDocument/documentSymbol", { textDocument = { uri = uri } }, 15000)
  results.symbols = {}
  for _, r in pairs(syms or {}) do
    for _, s in ipairs(r.result or {}) do
      local children = {}
      for _, c in ipairs(s.children or {}) do table.insert(children, c.name) end
      table.insert(results.symbols, { name = s.name, line = s.selectionRange.start.line, children = children })
    end
  end
end)
if not ok then table.insert(results.errors, tostring(err)) end
finish()
