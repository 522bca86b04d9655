-- Requests that failed: the proxy's own errors (502, 504, …), rows left without an outcome
-- by a crash (unknown), and upstream answers with status >= 400. Newest first.
SELECT started_at, sandbox, service, method, host, path, status, decision, reason, duration_ms
FROM selected
WHERE decision IN ('error', 'unknown') OR (decision = 'allowed' AND status >= 400)
ORDER BY started_at DESC, id DESC
LIMIT @limit;
