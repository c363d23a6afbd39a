-- Active workers of each platform in month {m} (at least {active_min} of its orders) and what
-- they earned on it: the base of union dues by active workers.
WITH pm AS (
  SELECT platform, person, count(*) AS n, sum(amount_fen) AS income
  FROM orders WHERE month = {m} GROUP BY platform, person
)
SELECT platform, CAST(count(*) AS BIGINT) AS active, CAST(sum(income) AS BIGINT) AS income
FROM pm WHERE n >= {active_min}
GROUP BY platform ORDER BY platform
