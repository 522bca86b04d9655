-- The most requested endpoints (service, method, host, normalized path). Default: top 20.
SELECT
  service,
  method,
  host,
  path,
  count(*) AS requests,
  count(*) FILTER (WHERE decision = 'denied') AS denied,
  count(*) FILTER (WHERE decision IN ('error', 'unknown') OR (decision = 'allowed' AND status >= 400)) AS errors,
  CAST(round(avg(duration_ms)) AS INTEGER) AS avg_ms
FROM selected
GROUP BY service, method, host, path
ORDER BY requests DESC, service, path
LIMIT CASE WHEN @limit < 0 THEN 20 ELSE @limit END;
