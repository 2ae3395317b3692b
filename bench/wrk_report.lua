-- Appended to every wrk script by bench/run.py: counts answers outside 2xx per status and, when wrk is
-- done, prints one line "BENCH_JSON {...}" with requests/s, latency percentiles (ms) and the errors.
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

function response(status, headers, body)
   if status < 200 or status > 299 then
      non2xx = non2xx + 1
      local key = tostring(status)
      statuses[key] = (statuses[key] or 0) + 1
   end
   if scenario_response then
      scenario_response(status, headers, body)
   end
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
   local seconds = summary.duration / 1e6
   local e = summary.errors
   io.write(string.format(
      'BENCH_JSON {"requests": %d, "duration_s": %.6f, "requests_per_s": %.3f, "bytes": %d, '
         .. '"latency_ms": {"mean": %.3f, "stdev": %.3f, "p50": %.3f, "p90": %.3f, "p99": %.3f, "max": %.3f}, '
         .. '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, '
         .. '"non2xx": %d, "non2xx_by_status": {%s}}\n',
      summary.requests, seconds, summary.requests / seconds, summary.bytes,
      latency.mean / 1000, latency.stdev / 1000, latency:percentile(50) / 1000,
      latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
      e.connect, e.read, e.write, e.status, e.timeout,
      bad, table.concat(parts, ", ")))
end
