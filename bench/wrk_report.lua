-- Appended to every wrk script by bench/run.py: counts answers outside 2xx per status, collects the
-- server's own timing of every answer (the Server-Timing header of bench/middleware.py) and, when wrk
-- is done, prints one line "BENCH_JSON {...}" with requests/s, wrk's latency percentiles (ms), the
-- server's percentiles (ms), the SQL query counts and the errors.
-- A scenario's own Lua (bench/lua/*.lua) comes first; its setup() and response() are still called.

local scenario_setup = setup
local scenario_response = response
local threads = {}

function setup(thread)
   table.insert(threads, thread)
   if scenario_setup then
      scenario_setup(thread)
   end
end

-- Runs in each wrk thread's own Lua state; done() collects the counters through thread:get().
non2xx = 0
statuses = {}
app_ms = {}
db_ms = {}
sql = {}

function response(status, headers, body)
   if status < 200 or status > 299 then
      non2xx = non2xx + 1
      local key = tostring(status)
      statuses[key] = (statuses[key] or 0) + 1
   end
   local timing = headers["Server-Timing"] or headers["server-timing"]
   if timing then
      local app = timing:match("app;dur=([%d.]+)")
      if app then
         local n = #app_ms + 1
         app_ms[n] = tonumber(app)
         db_ms[n] = tonumber(timing:match("db;dur=([%d.]+)") or "0")
         sql[n] = tonumber(timing:match('sql;desc="?(%d+)') or "0")
      end
   end
   if scenario_response then
      scenario_response(status, headers, body)
   end
end

local function gather(name)
   local all = {}
   for _, thread in ipairs(threads) do
      for _, value in ipairs(thread:get(name) or {}) do
         all[#all + 1] = value
      end
   end
   table.sort(all)
   return all
end

-- Nearest-rank percentile of a sorted list; 0 for an empty one.
local function percentile(sorted, p)
   local n = #sorted
   if n == 0 then
      return 0
   end
   local rank = math.ceil(p / 100 * n)
   if rank < 1 then
      rank = 1
   end
   return sorted[rank]
end

local function mean(values)
   if #values == 0 then
      return 0
   end
   local sum = 0
   for _, value in ipairs(values) do
      sum = sum + value
   end
   return sum / #values
end

function done(summary, latency, requests)
   local bad = 0
   local by_status = {}
   for _, thread in ipairs(threads) do
      bad = bad + (thread:get("non2xx") or 0)
      local counts = thread:get("statuses") or {}
      for key, count in pairs(counts) do
         by_status[key] = (by_status[key] or 0) + count
      end
   end
   local parts = {}
   for key, count in pairs(by_status) do
      table.insert(parts, string.format('"%s": %d', key, count))
   end
   local app, db, queries = gather("app_ms"), gather("db_ms"), gather("sql")
   local seconds = summary.duration / 1e6
   local e = summary.errors
   io.write(string.format(
      'BENCH_JSON {"requests": %d, "duration_s": %.6f, "requests_per_s": %.3f, "bytes": %d, '
         .. '"latency_ms": {"mean": %.3f, "stdev": %.3f, "p50": %.3f, "p90": %.3f, "p99": %.3f, "max": %.3f}, '
         .. '"server_ms": {"count": %d, "mean": %.3f, "p50": %.3f, "p90": %.3f, "p99": %.3f, "max": %.3f}, '
         .. '"db_ms": {"mean": %.3f, "p50": %.3f, "p99": %.3f}, '
         .. '"queries": {"min": %d, "p50": %d, "max": %d}, '
         .. '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, '
         .. '"non2xx": %d, "non2xx_by_status": {%s}}\n',
      summary.requests, seconds, summary.requests / seconds, summary.bytes,
      latency.mean / 1000, latency.stdev / 1000, latency:percentile(50) / 1000,
      latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
      #app, mean(app), percentile(app, 50), percentile(app, 90), percentile(app, 99), app[#app] or 0,
      mean(db), percentile(db, 50), percentile(db, 99),
      queries[1] or 0, percentile(queries, 50), queries[#queries] or 0,
      e.connect, e.read, e.write, e.status, e.timeout,
      bad, table.concat(parts, ", ")))
end
