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
-- The grid cell is an arg-max by a min over "(10^9 - count) || cell" (the count of a worker's
-- orders in one cell a month is far below 9 * 10^8, so the prefix is always nine digits and
-- sorts as the count does, most orders first, then the cell's own order), not row_number() over
-- a sort; and the worker's facts meet in one group-by of their union, not four hash joins.
-- Both measured in BENCHMARKS.md ("The alerts without a window and without joins").
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
  SELECT person, substr(min(CAST(1000000000 - n AS VARCHAR) || area), 10) AS area
  FROM cells GROUP BY person
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
-- Each worker's facts, one source a branch; the group-by below makes them one row.
facts AS (
  SELECT person, orders, income, platforms, CAST(NULL AS VARCHAR) AS area,
         CAST(NULL AS BIGINT) AS last_paid, CAST(NULL AS BIGINT) AS prev_income,
         CAST(NULL AS BIGINT) AS prev_months, CAST(NULL AS INTEGER) AS reviewed
  FROM act
  UNION ALL
  SELECT person, NULL AS orders, NULL AS income, NULL AS platforms, area,
         NULL AS last_paid, NULL AS prev_income, NULL AS prev_months, NULL AS reviewed
  FROM cell
  UNION ALL
  SELECT person, NULL AS orders, NULL AS income, NULL AS platforms, NULL AS area,
         last_paid, NULL AS prev_income, NULL AS prev_months, NULL AS reviewed
  FROM paid
  UNION ALL
  SELECT person, NULL AS orders, NULL AS income, NULL AS platforms, NULL AS area,
         NULL AS last_paid, income AS prev_income, months AS prev_months, NULL AS reviewed
  FROM prev
  UNION ALL
  SELECT person, NULL AS orders, NULL AS income, NULL AS platforms, NULL AS area,
         NULL AS last_paid, NULL AS prev_income, NULL AS prev_months, reviewed
  FROM cohort
),
-- Active workers only (every one of them has a cell: the same month's orders).
joined AS (
  SELECT person, max(orders) AS orders, max(income) AS income, max(platforms) AS platforms,
         max(area) AS area, max(last_paid) AS last_paid, max(prev_income) AS prev_income,
         max(prev_months) AS prev_months, max(reviewed) AS reviewed
  FROM facts GROUP BY person HAVING max(orders) IS NOT NULL
),
flagged AS (
  SELECT person, area, orders, income, platforms, last_paid, prev_income, prev_months, reviewed,
         CASE
           WHEN last_paid IS NULL THEN 'uninsured'
           WHEN {m} - last_paid >= {lapse} THEN 'stopped'
           WHEN {m} - last_paid >= {missed} THEN 'missed'
           WHEN reviewed IS NOT NULL THEN 'school_cohort'
           WHEN prev_months > 0
            AND income * 10000 * prev_months < prev_income * (10000 - {drop_bps}) THEN 'income_drop'
         END AS kind
  FROM joined
)
SELECT area, kind, person,
       CAST(orders AS BIGINT) AS orders, CAST(income AS BIGINT) AS income,
       CAST(platforms AS BIGINT) AS platforms, CAST(last_paid AS BIGINT) AS last_paid,
       CAST(prev_income AS BIGINT) AS prev_income, CAST(prev_months AS BIGINT) AS prev_months,
       CAST(reviewed AS BIGINT) AS reviewed
FROM flagged WHERE kind IS NOT NULL
ORDER BY area, kind, person
