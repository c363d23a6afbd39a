-- Orders of month {m} per platform, area and sector: what the occupational-injury bill is
-- computed from (the run adds the areas up by province, the first two digits of the code).
SELECT platform, area, sector, CAST(count(*) AS BIGINT) AS orders
FROM orders WHERE month = {m}
GROUP BY platform, area, sector
