SELECT
  "t2"."period",
  "t2"."value" * 1.0 AS "value"
FROM (
  SELECT
    "t1"."period",
    AVG("t1"."delivery_days") AS "value"
  FROM (
    SELECT DISTINCT
      "t0"."plan_id",
      DATE_TRUNC('MONTH', "t0"."done_on") AS "period",
      "t0"."delivery_days"
    FROM "sup_plans" AS "t0"
    WHERE
      "t0"."done_on" >= MAKE_DATE(2025, 1, 1)
      AND "t0"."done_on" <= MAKE_DATE(2025, 6, 30)
      AND "t0"."approved_on" IS NOT NULL
      AND "t0"."done_on" IS NOT NULL
  ) AS "t1"
  GROUP BY
    1
) AS "t2"
ORDER BY
  "t2"."period" ASC
