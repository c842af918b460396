-- Wrong passwords, as from many addresses: each request names one of `count` addresses in
-- X-Forwarded-For (keepsake trusts the proxy on 127.0.0.1 in this bench). Args: origin, count.
local origin, count = "http://127.0.0.1", 200
local n = 0

function init(args)
  origin = args[1] or origin
  count = tonumber(args[2] or count)
end

function request()
  n = n + 1
  local a = n % count
  local address = "198.18." .. math.floor(a / 256) .. "." .. (a % 256)
  return wrk.format("POST", "/login", {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["X-Forwarded-For"] = address,
    ["Origin"] = origin,
    ["Accept"] = "application/json",
    ["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36",
    ["Sec-Fetch-Site"] = "same-origin",
  }, "password=not-the-right-one-" .. n)
end
