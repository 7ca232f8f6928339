-- wrk's side of `pipewise bench api`: the same mix of API calls as Pipewise's own fixed-rate
-- load, in the same proportions (of ten: three deal lists, three deals, one history, two
-- dashboards, one PATCH), round robin over the deals named in PIPEWISE_BENCH_IDS.
-- Run by the benchmark as: wrk -t2 -c16 -d60s --latency -s api.lua http://127.0.0.1:PORT
-- with PIPEWISE_BENCH_TOKEN and PIPEWISE_BENCH_IDS (comma-separated deal ids) set.

local token = os.getenv("PIPEWISE_BENCH_TOKEN") or ""
local ids = {}
for id in string.gmatch(os.getenv("PIPEWISE_BENCH_IDS") or "1", "[^,]+") do
  ids[#ids + 1] = id
end
local counter = 0

request = function()
  counter = counter + 1
  local id = ids[(counter % #ids) + 1]
  local slot = counter % 10
  local headers = { ["Authorization"] = "Bearer " .. token, ["Accept"] = "application/json" }
  if slot <= 2 then
    return wrk.format("GET", "/api/v1/opportunities?limit=50", headers)
  elseif slot <= 5 then
    return wrk.format("GET", "/api/v1/opportunities/" .. id, headers)
  elseif slot == 6 then
    return wrk.format("GET", "/api/v1/opportunities/" .. id .. "/history", headers)
  elseif slot <= 8 then
    return wrk.format("GET", "/api/v1/analytics/pipeline", headers)
  else
    headers["Content-Type"] = "application/json"
    return wrk.format("PATCH", "/api/v1/opportunities/" .. id, headers, '{"next_step":"wrk ' .. counter .. '"}')
  end
end

done = function(summary, latency, requests)
  io.write(string.format("wrk-errors %d\n", summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
  io.write(string.format("wrk-p50-us %d\nwrk-p99-us %d\nwrk-max-us %d\n", latency:percentile(50), latency:percentile(99), latency.max))
  io.write(string.format("wrk-requests %d\nwrk-seconds %.3f\n", summary.requests, summary.duration / 1e6))
end
