-- points-redeem: POST /api/v1/points/redemptions/ as the till's township admin (token): one item of a
-- random household (each funded far beyond a run's spend) with a fresh idempotency key per request, so
-- every request really debits, credits the store's sink, takes stock and writes a receipt. bench/run.py
-- passes, after "--": the store id, the day id, the first and last item id, the first and last household id.

local store, day, item_first, item_last, household_first, household_last
local prefix
local counter = 0

function init(args)
   store, day = args[1], args[2]
   item_first, item_last = tonumber(args[3]), tonumber(args[4])
   household_first, household_last = tonumber(args[5]), tonumber(args[6])
   local random = assert(io.open("/dev/urandom", "rb"))
   local bytes = random:read(8)
   random:close()
   prefix = "bench-" .. bytes:gsub(".", function(c) return string.format("%02x", c:byte()) end)
   local seed = 0
   for i = 1, #bytes do seed = seed * 256 + bytes:byte(i) end
   math.randomseed(seed % 2147483647)
   wrk.method = "POST"
   wrk.headers["Content-Type"] = "application/json"
end

function request()
   counter = counter + 1
   local household = math.random(household_first, household_last)
   local item = math.random(item_first, item_last)
   local body = string.format(
      '{"store": %s, "day": %s, "household": %d, "lines": [{"item": %d, "quantity": 1}], "idempotency_key": "%s-%d"}',
      store, day, household, item, prefix, counter)
   return wrk.format(nil, nil, nil, body)
end
