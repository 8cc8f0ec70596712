-- wrk script for bench/queue_join.sh: POST /api/v1/events/<id>/queue (an empty body), each
-- request with the access token of the next user of the tokens file, so every request is a
-- first join by a distinct user (the server checks a token it has not seen, reads the account,
-- gives a new seq and journals it before answering). Counts 200s; any other status is counted
-- by status and printed. Should the file run out, it starts over ("wrapped" > 0): those joins
-- are repeats (same seq, no write), and the script that runs this treats the round as invalid.
--   wrk ... -s bench/queue_join.lua <url> -- <eventId> <tokens file>
local path
local tokens, count, next_index = {}, 0, 0

-- Read by done() through thread:get.
joins, wrapped = 0, 0
failures = {}  -- status → count

local threads = {}
function setup(thread)
    table.insert(threads, thread)
end

function init(args)
    path = "/api/v1/events/" .. args[1] .. "/queue"
    for line in io.lines(args[2]) do
        count = count + 1
        tokens[count] = line
    end
end

function request()
    next_index = next_index + 1
    if next_index > count then
        next_index = 1
        wrapped = wrapped + 1
    end
    return wrk.format("POST", path, {
        ["Authorization"] = "Bearer " .. tokens[next_index],
        ["Content-Length"] = "0",
    })
end

function response(status, headers, body)
    if status == 200 then
        joins = joins + 1
    else
        failures[status] = (failures[status] or 0) + 1
    end
end

function done(summary, latency, requests)
    local j, w, f = 0, 0, {}
    for _, t in ipairs(threads) do
        j = j + t:get("joins")
        w = w + t:get("wrapped")
        for status, v in pairs(t:get("failures")) do f[status] = (f[status] or 0) + v end
    end
    local e = summary.errors
    io.write(string.format("joins %d\nseconds %.3f\nwrapped %d\n", j, summary.duration / 1e6, w))
    io.write(string.format("socket_errors %d\n", e.connect + e.read + e.write + e.timeout))
    io.write(string.format("latency_p50_ms %.2f\nlatency_p99_ms %.2f\n",
                           latency:percentile(50) / 1000, latency:percentile(99) / 1000))
    for status, v in pairs(f) do io.write(string.format("failed %s %d\n", status, v)) end
end
