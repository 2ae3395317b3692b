-- canteens-checkin: POST /api/v1/canteens/meals/ as the bench canteen's manager (token): a subsidised meal
-- of an enrolled elder with a fresh idempotency key per request, so every request really checks the
-- enrolment, finds the price rule, splits the price, draws the donation share from the locked fund and
-- writes the meal, the fund movement and the audit row. bench/run.py passes, after "--": the canteen's
-- id, the file of the enrolled elders' ids (one a line), how many there are, the first day (noon UTC, in
-- seconds since the epoch) and the counter file (bench/canteens_fixtures.py writes both files).
--
-- No two requests, in this run or an earlier one on the same database, name the same elder, day and slot
-- (the one-meal-per-slot UNIQUE would answer 409): wrk calls init() for one thread after the other before
-- any of them runs, so each thread claims the next block of BLOCK_DAYS days from the counter file there
-- and walks its block day by day backwards from the first day, every elder in every slot.

local BLOCK_DAYS = 3 -- bench/canteens_fixtures.py's BLOCK_DAYS
local SLOTS = { "lunch", "breakfast", "dinner" }
local site, base
local elders = {}
local per_day
local first_index = 0
local counter = 0
local prefix

function init(args)
   site = args[1]
   for line in io.lines(args[2]) do
      elders[#elders + 1] = line
   end
   assert(#elders == tonumber(args[3]), "canteens-checkin: the elders file does not match")
   base = tonumber(args[4])
   per_day = #elders * #SLOTS
   local file = io.open(args[5], "r")
   local block = 0
   if file then
      block = tonumber(file:read("*l") or "0") or 0
      file:close()
   end
   file = assert(io.open(args[5], "w"))
   file:write(tostring(block + 1) .. "\n")
   file:close()
   first_index = block * BLOCK_DAYS * per_day
   local random = assert(io.open("/dev/urandom", "rb"))
   local bytes = random:read(8)
   random:close()
   prefix = "bench-" .. bytes:gsub(".", function(c) return string.format("%02x", c:byte()) end)
   wrk.method = "POST"
   wrk.headers["Content-Type"] = "application/json"
end

function request()
   local index = first_index + (counter % (BLOCK_DAYS * per_day))
   counter = counter + 1
   local day = math.floor(index / per_day)
   local rest = index % per_day
   local slot = SLOTS[math.floor(rest / #elders) + 1]
   local elder = elders[rest % #elders + 1]
   local served_on = os.date("!%Y-%m-%d", base - day * 86400)
   local body = string.format(
      '{"site": %s, "slot": "%s", "served_on": "%s", "resident": %s, "verified_by": "card_qr", "idempotency_key": "%s-%d"}',
      site, slot, served_on, elder, prefix, counter)
   return wrk.format(nil, nil, nil, body)
end
