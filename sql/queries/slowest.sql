-- The slowest forwarded requests by total duration. Default: top 20.
SELECT started_at, sandbox, service, method, host, path, status, ttfb_ms, duration_ms, model, output_tokens
FROM selected
WHERE decision IN ('allowed', 'error') AND duration_ms IS NOT NULL
ORDER BY duration_ms DESC, id
LIMIT CASE WHEN @limit < 0 THEN 20 ELSE @limit END;
