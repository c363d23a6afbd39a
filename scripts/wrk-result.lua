-- wrk's summary as one line that scripts/bench-*.sh read:
-- RESULT requests/s p50_ms p99_ms non-2xx errors
function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format("RESULT %.0f %.3f %.3f %d %d\n",
        summary.requests / (summary.duration / 1e6),
        latency:percentile(50) / 1000, latency:percentile(99) / 1000,
        e.status, e.connect + e.read + e.write + e.timeout))
end
