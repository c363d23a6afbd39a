-- Platform compliance for the years {first_year} to {year}: a platform's active workers in a
-- year are those with at least {active_min} of its orders in some month of the year; insured
-- are those of them with a paid month that year anywhere the instance knows.
WITH pm AS (
  SELECT platform, month, person, count(*) AS n FROM orders
  WHERE month >= {first_year} * 12 AND month < ({year} + 1) * 12
  GROUP BY platform, month, person
),
act AS (
  SELECT DISTINCT platform, CAST((month - month % 12) / 12 AS INTEGER) AS year, person
  FROM pm WHERE n >= {active_min}
),
-- The years with orders, read from the month column alone: a second reference to act would
-- run its group-by of the orders twice on DataFusion, which does not materialise a CTE (the
-- left join below keeps only act's years, so the extra years change nothing).
years AS (
  SELECT DISTINCT CAST((month - month % 12) / 12 AS INTEGER) AS year FROM orders
  WHERE month >= {first_year} * 12 AND month < ({year} + 1) * 12
),
ins AS (
  SELECT DISTINCT i.person, y.year FROM insured i
  JOIN years y ON i.from_month <= y.year * 12 + 11 AND i.to_month >= y.year * 12
)
SELECT a.platform, CAST(a.year AS BIGINT) AS year, CAST(count(*) AS BIGINT) AS active,
       CAST(count(s.person) AS BIGINT) AS insured
FROM act a LEFT JOIN ins s ON a.person = s.person AND a.year = s.year
GROUP BY a.platform, a.year
ORDER BY a.platform, year
