-- wrk -s stop_after.lua: each thread stops after env BENCH_STOP_AFTER responses
-- (used to drive an exact number of requests; wrk's -d still bounds the time).
local limit = tonumber(os.getenv("BENCH_STOP_AFTER") or "") or 10000
local seen = 0

function response(status, headers, body)
   seen = seen + 1
   if seen >= limit then
      wrk.thread:stop()
   end
end
