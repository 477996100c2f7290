-- wrk script for bench/load.py (run with -t1: see load.py on why one thread): a fixed number of requests per thread, each with its own code.
-- args: workdir quota method path body_template
--   workdir/codes-<n>.txt  one code per line for thread n, used in turn (absent: no codes)
--   workdir/headers.txt    "Name: value" lines sent with every request (absent: none)
--   path, body_template    @CODE@ is replaced by the request's code; "-" as template: no body
-- Prints one line "BENCHJSON {...}" from done(); non-200 bodies go to workdir/errors-<n>.txt (first 5).
-- wrk itself always runs for its whole -d duration: a thread that has its quota stops and writes
-- workdir/done-<n>; load.py sends SIGINT once every thread is done. The measured time is therefore taken
-- here, from each thread's first request to its last response (CLOCK_MONOTONIC through LuaJIT's FFI).
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec *tp);
]]
local ts = ffi.new("bench_timespec")
local function now()
  ffi.C.clock_gettime(1, ts)  -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) / 1e9
end

local threads = {}
local n = 0

function setup(thread)
  n = n + 1
  thread:set("tid", n)
  table.insert(threads, thread)
end

local function exists(name)
  local f = io.open(name, "r")
  if f then f:close() end
  return f ~= nil
end

function init(args)
  workdir, quota, method, path, template = args[1], tonumber(args[2]), args[3], args[4], args[5]
  codes, i, done_n, statuses, bad = {}, 0, 0, {}, 0
  hdrs = {}
  if exists(workdir .. "/headers.txt") then
    for line in io.lines(workdir .. "/headers.txt") do
      local k, v = line:match("^([^:]+):%s*(.*)$")
      if k then hdrs[k] = v end
    end
  end
  if template ~= "-" then hdrs["Content-Type"] = "application/json" end
  per_request_headers = false
  for _, v in pairs(hdrs) do if v:find("@CODE@", 1, true) then per_request_headers = true end end
  local codes_file = workdir .. "/codes-" .. tid .. ".txt"
  if exists(codes_file) then
    for line in io.lines(codes_file) do codes[#codes + 1] = line end
  end
end

function request()
  if not t_start then
    t_start = now()
    wrk.thread:set("t_start", t_start)
  end
  local p, body, h = path, nil, hdrs
  if template ~= "-" then body = template end
  if #codes > 0 then
    i = i + 1
    local code = codes[((i - 1) % #codes) + 1]
    p = p:gsub("@CODE@", code)
    if body then body = body:gsub("@CODE@", code) end
    if per_request_headers then  -- a header with @CODE@ (a session cookie per request): a copy per request
      h = {}
      for k, v in pairs(hdrs) do h[k] = v:gsub("@CODE@", function() return code end) end
    end
  end
  return wrk.format(method, p, h, body)
end

function response(status, headers, body)
  done_n = done_n + 1
  statuses[status] = (statuses[status] or 0) + 1
  if status ~= 200 then
    bad = bad + 1
    if bad <= 5 then
      local f = io.open(workdir .. "/errors-" .. tid .. ".txt", "a")
      f:write(status, " ", body or "", "\n")
      f:close()
    end
  end
  local parts = {}
  for k, v in pairs(statuses) do parts[#parts + 1] = k .. ":" .. v end
  wrk.thread:set("status_str", table.concat(parts, ","))
  if done_n == quota then
    wrk.thread:set("t_end", now())
    wrk.thread:set("done_n", done_n)
    local f = io.open(workdir .. "/done-" .. tid, "w")
    f:close()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local parts, first, last, counted = {}, nil, nil, 0
  for _, t in ipairs(threads) do
    local s = t:get("status_str")
    if s then parts[#parts + 1] = '"' .. s .. '"' end
    local a, b = t:get("t_start"), t:get("t_end")
    if a and (not first or a < first) then first = a end
    if b and (not last or b > last) then last = b end
    counted = counted + (t:get("done_n") or 0)
  end
  io.write(string.format(
    'BENCHJSON {"measured_s": %.6f, "counted": %d, "requests": %d, "bytes": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"mean_us": %.1f, "errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"statuses": [%s]}\n',
    (first and last) and (last - first) or -1, counted, summary.requests, summary.bytes, summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean, summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.status, summary.errors.timeout, table.concat(parts, ",")))
end
