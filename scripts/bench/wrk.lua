-- wrk script for `scripts/bench.sh`: one file, three roles chosen by BENCH_ROLE.
--
--   gate   GET as given on the command line (headers via -H); no per-response work, so the
--          generator stays as cheap as possible while measuring throughput.
--   light  the same, but each connection waits BENCH_PAUSE_MS between requests: a light
--          client that samples latency without adding load of its own.
--   storm  POST /token with the form body in BENCH_LOGIN_BODY; counts every status code,
--          and a client refused with 429/503 waits as long as its Retry-After asks
--          (RFC 9110 §10.2.3) before trying again, as a well-behaved client does. Run it
--          with one connection per thread (-t N -c N) so the wait applies to that client only.
--
-- Every role ends by printing one line `BENCH_RESULT {json}` that scripts/bench/report.py reads.

local role = os.getenv("BENCH_ROLE") or "gate"

if role == "storm" then
    wrk.method = "POST"
    wrk.body = os.getenv("BENCH_LOGIN_BODY") or ""
    wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"

    -- Per thread (one thread = one client): answers seen, by kind.
    counts = {}
    local wait_ms = 0

    local function header(headers, name)
        for key, value in pairs(headers) do
            if string.lower(key) == name then
                return value
            end
        end
        return nil
    end

    function response(status, headers, body)
        local kind = tostring(status)
        if status == 429 or status == 503 then
            local retry_after = tonumber(header(headers, "retry-after") or "")
            if retry_after then
                kind = kind .. "_retry_after"
                wait_ms = retry_after * 1000
            else
                kind = kind .. "_bare"
            end
        end
        counts[kind] = (counts[kind] or 0) + 1
    end

    function delay()
        local pause = wait_ms
        wait_ms = 0
        return pause
    end
elseif role == "light" then
    local pause_ms = tonumber(os.getenv("BENCH_PAUSE_MS") or "10")

    function delay()
        return pause_ms
    end
end

-- setup() runs in the main Lua state once per thread: keep the threads to read their counts.
local threads = {}

function setup(thread)
    table.insert(threads, thread)
end

function done(summary, latency, requests)
    local totals = {}
    for _, thread in ipairs(threads) do
        local counts = thread:get("counts")
        if type(counts) == "table" then
            for kind, n in pairs(counts) do
                totals[kind] = (totals[kind] or 0) + n
            end
        end
    end
    local statuses = {}
    for kind, n in pairs(totals) do
        table.insert(statuses, string.format('"%s":%d', kind, n))
    end
    table.sort(statuses)

    local errors = summary.errors
    io.write(string.format(
        'BENCH_RESULT {"role":"%s","duration_us":%.0f,"requests":%.0f,"bytes":%.0f,' ..
        '"errors":{"connect":%.0f,"read":%.0f,"write":%.0f,"status":%.0f,"timeout":%.0f},' ..
        '"latency_us":{"mean":%.1f,"p50":%.0f,"p90":%.0f,"p99":%.0f,"max":%.0f},' ..
        '"statuses":{%s}}\n',
        role, summary.duration, summary.requests, summary.bytes,
        errors.connect, errors.read, errors.write, errors.status, errors.timeout,
        latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99),
        latency.max, table.concat(statuses, ",")))
end
