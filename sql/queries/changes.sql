-- Live changes to running sandboxes (attach, revoke, budgets, endpoints), oldest first.
SELECT c.at, c.sandbox, (SELECT name FROM sandboxes WHERE id = c.sandbox) AS name, c.kind, c.detail
FROM sandbox_changes AS c
WHERE c.sandbox IN (SELECT DISTINCT sandbox FROM selected)
   OR (@sandbox IS NOT NULL AND (c.sandbox = @sandbox OR c.sandbox IN (SELECT id FROM sandboxes WHERE name = @sandbox)))
ORDER BY c.id
LIMIT @limit;
