-- wrk workloads for bench/speed.py. WORKLOAD: list | get | create | toggle | mixed;
-- TOKENS_FILE: lines "<user_id> <jwt> <id>,<id>,..." (bench/seeding.py writes them).
-- Each request picks a random user and, for get/toggle, one of that user's tasks.
-- mixed = 40% list, 40% get, 10% create, 10% toggle. done() prints one RESULT line.
local workload = os.getenv("WORKLOAD") or "list"
local users, counter = {}, 0

function init(args)
  for line in io.lines(os.getenv("TOKENS_FILE")) do
    local uid, tok, ids = line:match("^(%S+)%s+(%S+)%s*(%S*)")
    local list = {}
    for id in ids:gmatch("%d+") do list[#list + 1] = id end
    users[#users + 1] = {
      base = "/api/" .. uid .. "/tasks", ids = list,
      hdr = { ["Authorization"] = "Bearer " .. tok },
      jhdr = { ["Authorization"] = "Bearer " .. tok, ["Content-Type"] = "application/json" },
    }
  end
  math.randomseed(os.time() + (tonumber(tostring({}):match("0x(%x+)"), 16) or 0) % 100000)
end

local function list(u) return wrk.format("GET", u.base .. "?limit=50", u.hdr) end
local function get(u) return wrk.format("GET", u.base .. "/" .. u.ids[math.random(#u.ids)], u.hdr) end
local function toggle(u)
  return wrk.format("PATCH", u.base .. "/" .. u.ids[math.random(#u.ids)] .. "/complete", u.hdr)
end
local function create(u)
  counter = counter + 1
  local body = '{"title":"Bench task ' .. counter ..
    '","description":"Created by wrk: buy milk, write the report, call the plumber."}'
  return wrk.format("POST", u.base, u.jhdr, body)
end
local function mixed(u)
  local r = math.random(100)
  if r <= 40 then return list(u) elseif r <= 80 then return get(u)
  elseif r <= 90 then return create(u) else return toggle(u) end
end
local pick = { list = list, get = get, create = create, toggle = toggle, mixed = mixed }
local make = assert(pick[workload], "unknown WORKLOAD " .. workload)

function request() return make(users[math.random(#users)]) end

function done(summary, latency, requests)
  local non2xx = summary.errors.status
  io.write(string.format(
    "RESULT workload=%s rps=%.1f p50_ms=%.2f p99_ms=%.2f non2xx=%d sock_errors=%d\n",
    workload, summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, non2xx,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
