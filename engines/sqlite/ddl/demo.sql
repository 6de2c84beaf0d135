-- The demo database of `make run`: numbers 0..9999 and a small catalog.
CREATE TABLE IF NOT EXISTS numbers (numbers INTEGER PRIMARY KEY);
INSERT OR IGNORE INTO numbers (numbers)
    WITH RECURSIVE n(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM n WHERE x < 9999)
    SELECT x FROM n;
INSERT OR IGNORE INTO queries (ref, name, description, sql_text, queue, is_public, timeout_ms, cache_ttl_s, tables_list) VALUES
 (1, 'count numbers', 'How many numbers there are', 'SELECT COUNT(*) AS total FROM numbers', 'fast', 1, 0, 0, 'numbers'),
 (2, 'one number', 'One number by value', 'SELECT numbers FROM numbers WHERE numbers = :N', 'fast', 1, 0, 0, 'numbers'),
 (3, 'cached count', 'The count, cached for 60 s', 'SELECT COUNT(*) AS total FROM numbers', 'cache', 1, 0, 60, 'numbers'),
 (4, 'private count', 'Not public: only on the auth endpoints', 'SELECT COUNT(*) AS total FROM numbers', 'fast', 0, 0, 0, 'numbers'),
 (5, 'slow sum', 'A deliberately heavy query', 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < :LOOPS) SELECT SUM(x) AS total FROM c', 'slow', 1, 2000, 0, ''),
 (55, 'numbers range', 'Numbers between START and FINISH', 'SELECT numbers FROM numbers WHERE numbers >= :START AND numbers <= :FINISH ORDER BY numbers', 'slow', 1, 5000, 0, 'numbers');
