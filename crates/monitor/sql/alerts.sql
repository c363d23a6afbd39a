-- Alerts of month {m} (a month index: year * 12 + month - 1): workers active this month
-- (at least {active_min} orders) who are not insured anywhere the instance knows, who stopped
-- paying ({lapse} months or more since the last paid month), who missed months ({missed} or
-- more, short of stopping), who still pay but enrolled for a school review held in the {school}
-- months before (the school cohort after its school year), or whose income fell by {drop_bps}
-- basis points or more against the average of their months with orders among the {window}
-- before. One row a worker, in the grid cell where most of their orders were.
-- Platforms and months are counted over a group-by of (person, platform) and of (person,
-- month), not with count(DISTINCT): beside other aggregates DataFusion keeps a hash set per
-- group for it (7x slower, 4 GB at 2 million orders: BENCHMARKS.md).
WITH cur AS (
  SELECT person, sum(n) AS orders, sum(income) AS income, count(platform) AS platforms
  FROM (
    SELECT person, platform, count(*) AS n, sum(amount_fen) AS income
    FROM orders WHERE month = {m} GROUP BY person, platform
  ) per_platform GROUP BY person
),
act AS (SELECT * FROM cur WHERE orders >= {active_min}),
cells AS (
  SELECT person, area, count(*) AS n FROM orders WHERE month = {m} GROUP BY person, area
),
cell AS (
  SELECT person, area FROM (
    SELECT person, area, row_number() OVER (PARTITION BY person ORDER BY n DESC, area) AS rn
    FROM cells
  ) ranked WHERE rn = 1
),
paid AS (
  SELECT person, max(CASE WHEN to_month > {m} THEN {m} ELSE to_month END) AS last_paid
  FROM insured WHERE from_month <= {m} GROUP BY person
),
cohort AS (
  SELECT person, max(reviewed) AS reviewed FROM school
  WHERE reviewed < {m} AND reviewed >= {m} - {school} GROUP BY person
),
prev AS (
  SELECT person, sum(income) AS income, count(month) AS months
  FROM (
    SELECT person, month, sum(amount_fen) AS income
    FROM orders WHERE month >= {m} - {window} AND month < {m} GROUP BY person, month
  ) per_month GROUP BY person
),
flagged AS (
  SELECT a.person, c.area, a.orders, a.income, a.platforms, p.last_paid,
         pr.income AS prev_income, pr.months AS prev_months, s.reviewed,
         CASE
           WHEN p.last_paid IS NULL THEN 'uninsured'
           WHEN {m} - p.last_paid >= {lapse} THEN 'stopped'
           WHEN {m} - p.last_paid >= {missed} THEN 'missed'
           WHEN s.reviewed IS NOT NULL THEN 'school_cohort'
           WHEN pr.months > 0
            AND a.income * 10000 * pr.months < pr.income * (10000 - {drop_bps}) THEN 'income_drop'
         END AS kind
  FROM act a
  JOIN cell c ON a.person = c.person
  LEFT JOIN paid p ON a.person = p.person
  LEFT JOIN prev pr ON a.person = pr.person
  LEFT JOIN cohort s ON a.person = s.person
)
SELECT area, kind, person,
       CAST(orders AS BIGINT) AS orders, CAST(income AS BIGINT) AS income,
       CAST(platforms AS BIGINT) AS platforms, CAST(last_paid AS BIGINT) AS last_paid,
       CAST(prev_income AS BIGINT) AS prev_income, CAST(prev_months AS BIGINT) AS prev_months,
       CAST(reviewed AS BIGINT) AS reviewed
FROM flagged WHERE kind IS NOT NULL
ORDER BY area, kind, person
