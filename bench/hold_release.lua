-- wrk script for bench/hold_release.sh: request pairs of
--   POST   /api/v1/events/<id>/holds {"seats":["<seat>"]}   (expects 201 with "holdId")
--   DELETE /api/v1/holds/<holdId>                           (expects 204)
-- each with "Authorization: Bearer <token>".
--   wrk ... -s bench/hold_release.lua <url> -- <eventId> <slots file> [threads=1]
-- The slots file has one "<seat> <token>" per line. A slot is one seat and the token of the user
-- who holds it; give each slot its own user (a user's own cap is then never reached) and at
-- least twice as many slots as connections.
--
-- wrk shares one Lua state between all the connections of a thread and does not say which
-- connection a request or response belongs to, and responses come back in any order. So the
-- state machine is per slot, not per connection: every request carries
-- "X-Request-Id: h<slot>" (hold) or "r<slot>" (release), the server echoes it (ticketon does
-- for any client id it accepts; the nginx reference is configured to), and response() finds
-- the slot by it. When a connection asks for its next request it gets the release of a held
-- slot when there is one, else the hold of an idle slot. A slot has at most one request in
-- flight, so two requests never race for a seat; with more slots than connections an idle or
-- held slot is always there ("starved" counts the times it was not; it stays 0). (wrk calls
-- request() once before the run to check the script: that slot is never sent, and stays taken.)

local event_id, post_path
local slots = {}

local function queue() return {first = 1, last = 0} end
local function push(q, v) q.last = q.last + 1; q[q.last] = v end
local function pop(q)
    if q.first > q.last then return nil end
    local v = q[q.first]
    q[q.first] = nil
    q.first = q.first + 1
    return v
end
local idle, held = queue(), queue()

-- Read by done() through thread:get.
pair_count, hold_count, starved, unmatched = 0, 0, 0, 0
failures = {}  -- "POST 409" → count

local threads = {}
function setup(thread)
    thread:set("thread_index", #threads)
    table.insert(threads, thread)
end

function init(args)
    event_id = args[1]
    local path, nthreads = args[2], tonumber(args[3] or "1")
    post_path = "/api/v1/events/" .. event_id .. "/holds"
    local n = 0
    for line in io.lines(path) do
        local seat, token = line:match("^(%S+)%s+(%S+)$")
        if seat and n % nthreads == thread_index then
            local k = #slots + 1
            slots[k] = {auth = "Bearer " .. token}
            slots[k].post = wrk.format("POST", post_path, {
                ["Authorization"] = slots[k].auth,
                ["Content-Type"] = "application/json",
                ["X-Request-Id"] = "h" .. k,
            }, '{"seats":["' .. seat .. '"]}')
            push(idle, k)
        end
        n = n + 1
    end
end

function request()
    local k = pop(held)
    if k then
        local s = slots[k]
        return wrk.format("DELETE", "/api/v1/holds/" .. s.hold,
                          {["Authorization"] = s.auth, ["X-Request-Id"] = "r" .. k})
    end
    k = pop(idle)
    if k then return slots[k].post end
    starved = starved + 1
    return wrk.format("GET", "/healthz")
end

local function fail(what, status)
    local key = what .. " " .. status
    failures[key] = (failures[key] or 0) + 1
end

function response(status, headers, body)
    local id = headers["X-Request-Id"] or headers["x-request-id"] or ""
    local kind, k = id:sub(1, 1), tonumber(id:sub(2))
    local s = k and slots[k]
    if not s then
        unmatched = unmatched + 1
        return
    end
    if kind == "h" then
        local hold = status == 201 and body:match('"holdId"%s*:%s*"([^"]+)"')
        if hold then
            s.hold = hold
            hold_count = hold_count + 1
            push(held, k)
        else
            fail("POST", status)
            push(idle, k)
        end
    elseif kind == "r" then
        if status == 204 then pair_count = pair_count + 1 else fail("DELETE", status) end
        push(idle, k)
    else
        unmatched = unmatched + 1
    end
end

function done(summary, latency, requests)
    local p, h, st, um, f = 0, 0, 0, 0, {}
    for _, t in ipairs(threads) do
        p = p + t:get("pair_count")
        h = h + t:get("hold_count")
        st = st + t:get("starved")
        um = um + t:get("unmatched")
        for key, v in pairs(t:get("failures")) do f[key] = (f[key] or 0) + v end
    end
    local e = summary.errors
    io.write(string.format("pairs %d\nholds %d\nseconds %.3f\nstarved %d\nunmatched %d\n",
                           p, h, summary.duration / 1e6, st, um))
    io.write(string.format("socket_errors %d\n", e.connect + e.read + e.write + e.timeout))
    for key, v in pairs(f) do io.write(string.format("failed %s %d\n", key, v)) end
end
