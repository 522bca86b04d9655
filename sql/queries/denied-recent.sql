-- Requests refused by policy, newest first. Without --since: the last 24 hours.
SELECT started_at, sandbox, service, method, host, path, query, status, reason
FROM selected
WHERE decision = 'denied'
  AND (@since <> '' OR started_at >= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-1 day'))
ORDER BY started_at DESC, id DESC
LIMIT @limit;
