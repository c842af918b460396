-- A family browsing rather than a load test: each connection waits `delay` ms between its
-- requests, so the server is not saturated and the latency measured is what a person feels.
local pause = 20

function init(args)
  pause = tonumber(args[1] or pause)
end

function delay()
  return pause
end
