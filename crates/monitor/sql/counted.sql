-- The workers counted against each platform in {year}: active on it (at least {active_min} of
-- its orders in some month of the year) with no paid month that year anywhere the instance
-- knows — the pseudonyms behind compliance.sql's active minus insured, for the platform's
-- own page (it sees them by pseudonym only).
WITH pm AS (
  SELECT platform, month, person, count(*) AS n FROM orders
  WHERE month >= {year} * 12 AND month < ({year} + 1) * 12
  GROUP BY platform, month, person
),
act AS (SELECT DISTINCT platform, person FROM pm WHERE n >= {active_min}),
ins AS (
  SELECT DISTINCT person FROM insured
  WHERE from_month <= {year} * 12 + 11 AND to_month >= {year} * 12
)
SELECT a.platform, a.person
FROM act a LEFT JOIN ins s ON a.person = s.person
WHERE s.person IS NULL
ORDER BY a.platform, a.person
