-- wrk script for bench/hold_conflict.sh: holds that lose, as most attempts do in an on-sale:
--   POST /api/v1/events/<id>/holds {"seats":["<seat>"]}   (expects 409 SEAT_UNAVAILABLE)
-- with "Authorization: Bearer <token>", the tokens taken in turn from a file (one per line:
-- "<access token>" or "<access token> <entry token>", the latter sent as Queue-Token).
--   wrk ... -s bench/hold_conflict.lua <url> -- <eventId> <seat> <tokens file>
-- Counts the answers by status; done() prints "requests N", "conflicts N" (409s) and
-- "failed <status> N" for anything else, plus socket errors.

local posts = {}
local next_post = 0
conflicts, others = 0, {}

local threads = {}
function setup(thread)
    table.insert(threads, thread)
end

function init(args)
    local event_id, seat, path = args[1], args[2], args[3]
    for line in io.lines(path) do
        local token, entry = line:match("^(%S+)%s*(%S*)$")
        if token then
            local headers = {
                ["Authorization"] = "Bearer " .. token,
                ["Content-Type"] = "application/json",
            }
            if entry ~= "" then headers["Queue-Token"] = entry end
            posts[#posts + 1] = wrk.format("POST", "/api/v1/events/" .. event_id .. "/holds",
                headers, '{"seats":["' .. seat .. '"]}')
        end
    end
end

function request()
    if #posts == 0 then error("no tokens in the tokens file") end
    next_post = next_post % #posts + 1
    return posts[next_post]
end

function response(status, headers, body)
    if status == 409 then
        conflicts = conflicts + 1
    else
        others[status] = (others[status] or 0) + 1
    end
end

function done(summary, latency, requests)
    local c, o = 0, {}
    for _, t in ipairs(threads) do
        c = c + t:get("conflicts")
        for status, v in pairs(t:get("others")) do o[status] = (o[status] or 0) + v end
    end
    local e = summary.errors
    io.write(string.format("requests %d\nconflicts %d\nseconds %.3f\n", summary.requests, c,
                           summary.duration / 1e6))
    io.write(string.format("socket_errors %d\n", e.connect + e.read + e.write + e.timeout))
    for status, v in pairs(o) do io.write(string.format("failed %s %d\n", status, v)) end
end
