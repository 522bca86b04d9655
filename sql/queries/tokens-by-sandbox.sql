-- LLM tokens per sandbox (and the models it used), most tokens first.
SELECT
  r.sandbox,
  (SELECT name FROM sandboxes WHERE id = r.sandbox) AS name,
  count(*) AS requests,
  count(*) FILTER (WHERE r.input_tokens IS NOT NULL OR r.output_tokens IS NOT NULL) AS llm_requests,
  coalesce(sum(r.input_tokens), 0) AS input_tokens,
  coalesce(sum(r.output_tokens), 0) AS output_tokens,
  coalesce(sum(r.input_tokens), 0) + coalesce(sum(r.output_tokens), 0) AS total_tokens,
  group_concat(DISTINCT r.model) AS models
FROM selected AS r
GROUP BY r.sandbox
ORDER BY total_tokens DESC, r.sandbox
LIMIT @limit;
