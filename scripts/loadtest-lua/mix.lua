-- CleanPNG load suite: the wrk side of scripts/loadtest (see scripts/loadtest.py).
--
-- One wrk process runs one request kind; scripts/loadtest runs one process
-- per kind at the same time, so that wrk's latency histogram (which is per
-- process) gives percentiles per kind, and the connection split sets the mix.
--
--   wrk -t1 -c8 -d60s --timeout 60s --latency -s mix.lua http://127.0.0.1:PORT -- \
--       kind=search_cached [visitors=256] [nonce=abc] [body=/path/photo.jpg]
--       [size=preview] [delete_every=20]
--
-- kinds:
--   search_cached    GET /api/search over a small set of repeated queries
--                    (primed beforehand, so the Redis cache answers)
--   search_uncached  GET /api/search with a query never sent before
--                    (nonce + thread + counter): always goes upstream
--   remove           POST /api/remove?size=SIZE, raw image/jpeg body read
--                    once from the file `body`
--   privacy          GET /api/privacy; every delete_every-th request is
--                    DELETE /api/privacy (erases that visitor's entries)
--   health           GET /api/health, from loopback (a monitor, no visitor)
--
-- Visitors: unless visitors=0, each request carries X-Forwarded-For with one
-- of `visitors` simulated addresses (10.x.y.z); the stack trusts loopback as
-- a proxy, so each visitor has its own rate limits, log index and privacy
-- view, as on a real site.
--
-- done() prints one line, "LOADTEST_RESULT {json}", with wrk's summary,
-- statuses per code aggregated over wrk's threads (setup/thread pattern),
-- kind-specific counters, and latency percentiles on a 0.1 % grid (so that
-- scripts/loadtest can merge the kinds into an overall distribution).

local threads = {}
local nthreads = 0

function setup(thread)
    nthreads = nthreads + 1
    thread:set("tid", nthreads)
    table.insert(threads, thread)
end

local function parse_args(args)
    local o = {}
    for _, a in ipairs(args) do
        local k, v = a:match("^([%w_]+)=(.*)$")
        if k then o[k] = v end
    end
    return o
end

local cached_queries = {"cat", "dog", "nature", "car", "flower", "mountain", "beach", "city"}
local cached_pages = {"1", "2"}

-- per-thread state (globals: thread:get reads them in done())
function init(args)
    local o = parse_args(args)
    kind = o.kind or "health"
    visitors = tonumber(o.visitors or "256")
    nonce = o.nonce or tostring(os.time())
    size = o.size or "preview"
    delete_every = tonumber(o.delete_every or "20")
    n = 0                -- requests built
    statuses = {}        -- code (string) -> responses
    counters = {}        -- kind-specific: cache_hit, cache_miss, deletes_sent, engine_*...
    tid = tid or 1
    math.randomseed(tid * 7919 + os.time())
    if kind == "remove" then
        local f = assert(io.open(o.body, "rb"), "cannot open body file " .. tostring(o.body))
        image = f:read("*a")
        f:close()
    end
end

local function bump(t, k)
    t[k] = (t[k] or 0) + 1
end

local function visitor_headers(extra)
    local h = extra or {}
    if visitors > 0 then
        local v = math.random(visitors) - 1
        h["X-Forwarded-For"] = string.format("10.%d.%d.%d", 64 + math.floor(v / 65536) % 64,
                                             math.floor(v / 256) % 256, v % 256)
    end
    return h
end

function request()
    n = n + 1
    if kind == "search_cached" then
        local q = cached_queries[(n - 1) % #cached_queries + 1]
        local p = cached_pages[math.floor((n - 1) / #cached_queries) % #cached_pages + 1]
        return wrk.format("GET", "/api/search?q=" .. q .. "&page=" .. p .. "&per_page=20",
                          visitor_headers())
    elseif kind == "search_uncached" then
        local q = "lt" .. nonce .. "t" .. tid .. "n" .. n
        return wrk.format("GET", "/api/search?q=" .. q .. "&per_page=20", visitor_headers())
    elseif kind == "remove" then
        return wrk.format("POST", "/api/remove?size=" .. size,
                          visitor_headers({["Content-Type"] = "image/jpeg"}), image)
    elseif kind == "privacy" then
        if delete_every > 0 and n % delete_every == 0 then
            bump(counters, "deletes_sent")
            return wrk.format("DELETE", "/api/privacy", visitor_headers())
        end
        bump(counters, "gets_sent")
        return wrk.format("GET", "/api/privacy", visitor_headers())
    else
        return wrk.format("GET", "/api/health", {})
    end
end

function response(status, headers, body)
    bump(statuses, tostring(status))
    if status ~= 200 then return end
    if kind == "search_cached" or kind == "search_uncached" then
        if body and body:sub(1, 15) == '{"cached":true,' then
            bump(counters, "cache_hit")
        else
            bump(counters, "cache_miss")
        end
    elseif kind == "remove" then
        bump(counters, "engine_" .. (headers["X-Engine"] or headers["x-engine"] or "unknown"))
        if headers["X-Cutout-Warning"] then
            bump(counters, "cutout_warning_" .. headers["X-Cutout-Warning"])
        end
    elseif kind == "health" then
        if body and body:find('"degraded"', 1, true) then bump(counters, "degraded") end
    end
end

-- minimal JSON for flat tables of numbers
local function json_counts(t)
    local parts = {}
    for k, v in pairs(t) do
        table.insert(parts, string.format("%q:%d", k, v))
    end
    return "{" .. table.concat(parts, ",") .. "}"
end

function done(summary, latency, requests)
    local st, ct = {}, {}
    local k = "unknown"
    for _, thread in ipairs(threads) do
        for code, c in pairs(thread:get("statuses") or {}) do
            st[code] = (st[code] or 0) + c
        end
        for name, c in pairs(thread:get("counters") or {}) do
            ct[name] = (ct[name] or 0) + c
        end
        k = thread:get("kind") or k
    end
    local grid = {}
    for i = 0, 999 do
        table.insert(grid, string.format("%d", latency:percentile((i + 0.5) / 10)))
    end
    local e = summary.errors
    local none = summary.requests == 0  -- an empty histogram has min = UINT64_MAX
    io.write(string.format(
        'LOADTEST_RESULT {"kind":%q,"threads":%d,"duration_us":%d,"requests":%d,"bytes":%d,' ..
        '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
        '"statuses":%s,"counters":%s,' ..
        '"latency_us":{"min":%d,"max":%d,"mean":%.1f,"stdev":%.1f,' ..
        '"p50":%d,"p90":%d,"p99":%d,"p999":%d,"grid":[%s]}}\n',
        k, #threads, summary.duration, summary.requests, summary.bytes,
        e.connect, e.read, e.write, e.status, e.timeout,
        json_counts(st), json_counts(ct),
        none and 0 or latency.min, none and 0 or latency.max, none and 0 or latency.mean,
        none and 0 or latency.stdev,
        latency:percentile(50), latency:percentile(90), latency:percentile(99),
        latency:percentile(99.9), table.concat(grid, ",")))
end
