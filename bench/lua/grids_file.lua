-- grids-file: POST /api/v1/grids/cases/ as multipart/form-data, one photo, a fresh idempotency key per
-- request (a replay would answer the first case without filing anything). bench/run.py passes, after
-- "--": the category id, the grid id and the path of the photo (bench/fixtures.py's phone_photo).

local boundary = "xiangzhi-bench-7d1f3a9c"
local before_key, after_key
local prefix
local counter = 0

local function field(name, value)
   return "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\"" .. name .. "\"\r\n\r\n"
      .. value .. "\r\n"
end

function init(args)
   local category, grid, photo_path = args[1], args[2], args[3]
   local file = assert(io.open(photo_path, "rb"))
   local photo = file:read("*a")
   file:close()
   -- A random prefix per thread and wrk process: keys never repeat across threads, rounds or runs.
   local random = assert(io.open("/dev/urandom", "rb"))
   local bytes = random:read(8)
   random:close()
   prefix = "bench-" .. bytes:gsub(".", function(c) return string.format("%02x", c:byte()) end)
   before_key = "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\"idempotency_key\"\r\n\r\n"
   after_key = "\r\n"
      .. field("category", category)
      .. field("grid", grid)
      .. field("urgency", "normal")
      .. field("privacy", "public")
      .. field("description", "村口路灯不亮已经一周，晚上群众出行不便，请尽快维修。")
      .. "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\"photos\"; filename=\"photo.jpg\"\r\n"
      .. "Content-Type: image/jpeg\r\n\r\n" .. photo .. "\r\n"
      .. "--" .. boundary .. "--\r\n"
   wrk.method = "POST"
   wrk.headers["Content-Type"] = "multipart/form-data; boundary=" .. boundary
end

function request()
   counter = counter + 1
   return wrk.format(nil, nil, nil, before_key .. prefix .. "-" .. counter .. after_key)
end
