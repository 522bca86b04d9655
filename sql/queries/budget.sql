-- Token, cost and request budgets (endpoint rules' rates among them): what each sandbox (by name, else id) used of each, and when it starts afresh.
-- A budget's row is written as its calls settle; the filters pick the sandboxes by their requests.
SELECT
  b.owner AS sandbox,
  nullif(b.credential, '') AS credential,
  b.kind,
  nullif(b.endpoint, '') AS endpoint,
  b.limit_value AS "limit",
  CASE WHEN b.kind = 'usd' THEN round(b.used, 6) ELSE b.used END AS used,
  CASE WHEN b.kind = 'usd' THEN round(max(b.limit_value - b.used, 0), 6) ELSE max(b.limit_value - b.used, 0) END AS remaining,
  CASE WHEN b.window_ms = 0 THEN NULL ELSE b.window_ms / 1000 END AS window_seconds,
  b.window_start,
  CASE WHEN b.window_ms = 0 THEN NULL
    ELSE strftime('%Y-%m-%dT%H:%M:%fZ', julianday(b.window_start) + b.window_ms / 86400000.0) END AS resets_at,
  b.updated_at
FROM budgets AS b
WHERE b.sandbox IN (SELECT DISTINCT sandbox FROM selected)
ORDER BY b.owner, b.credential, b.kind, b.window_ms, b.endpoint
LIMIT @limit;
