-- The demo database of `make run`: numbers 0..9999 and a small catalog.
CREATE TABLE IF NOT EXISTS numbers (numbers INTEGER PRIMARY KEY);
INSERT OR IGNORE INTO numbers (numbers)
    WITH RECURSIVE n(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM n WHERE x < 9999)
    SELECT x FROM n;
-- One entry per feature: reads on each queue, a cached read (3) that the
-- write (104) invalidates, a private entry (4, auth endpoints only), a read
-- on the direct lane (60), and a write (104) that an Idempotency-Key makes
-- safe to retry. The numbers 0..9999 are taken: write others (10000 up).
-- param_types types the parameters for the named routes and the OpenAPI.
INSERT OR IGNORE INTO queries (ref, name, description, sql_text, queue, is_public, is_direct, timeout_ms, cache_ttl_s, tables_list, param_types) VALUES
 (1, 'count numbers', 'How many numbers there are', 'SELECT COUNT(*) AS total FROM numbers', 'fast', 1, 0, 0, 0, 'numbers', NULL),
 (2, 'one number', 'One number by value', 'SELECT numbers FROM numbers WHERE numbers = :N', 'fast', 1, 0, 0, 0, 'numbers', 'N INTEGER'),
 (3, 'cached count', 'The count, from the instance cache', 'SELECT COUNT(*) AS total FROM numbers', 'cache', 1, 0, 0, 60, 'numbers', NULL),
 (4, 'private count', 'Not public: only on the auth endpoints', 'SELECT COUNT(*) AS total FROM numbers', 'fast', 0, 0, 0, 0, 'numbers', NULL),
 (5, 'slow sum', 'A deliberately heavy query', 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < :LOOPS) SELECT SUM(x) AS total FROM c', 'slow', 1, 0, 2000, 0, '', 'LOOPS INTEGER'),
 (55, 'numbers range', 'Numbers between START and FINISH', 'SELECT numbers FROM numbers WHERE numbers >= :START AND numbers <= :FINISH ORDER BY numbers', 'slow', 1, 0, 5000, 0, 'numbers', 'START INTEGER, FINISH INTEGER'),
 (60, 'one number, direct', 'One number by value, on the direct lane (core NATS request/reply, no JetStream)', 'SELECT numbers FROM numbers WHERE numbers = :N', 'fast', 1, 1, 0, 0, 'numbers', 'N INTEGER'),
 (104, 'add a number', 'Inserts N (0..9999 are taken): a write, POST only; an Idempotency-Key makes a retry safe', 'INSERT INTO numbers (numbers) VALUES (:N)', 'medium', 1, 0, 0, 0, 'numbers', 'N INTEGER');
