SELECT
  "t2"."period",
  CASE
    WHEN CAST("t2"."denominator" AS DOUBLE) > 0
    THEN (
      CAST("t2"."numerator" AS DOUBLE) / CAST("t2"."denominator" AS DOUBLE)
    ) * 1.0
    ELSE CAST(NULL AS DOUBLE)
  END AS "value",
  CAST("t2"."numerator" AS DOUBLE) AS "numerator",
  CAST("t2"."denominator" AS DOUBLE) AS "denominator"
FROM (
  SELECT
    "t1"."period",
    COUNT(*) FILTER(WHERE
      "t1"."passed" = TRUE) AS "numerator",
    COUNT(*) AS "denominator"
  FROM (
    SELECT
      "t0"."recheck_id",
      "t0"."branch_id",
      "t0"."rechecked_on",
      "t0"."passed",
      DATE_TRUNC('MONTH', "t0"."rechecked_on") AS "period"
    FROM "sup_rechecks" AS "t0"
    WHERE
      "t0"."rechecked_on" >= MAKE_DATE(2025, 1, 1)
      AND "t0"."rechecked_on" <= MAKE_DATE(2025, 6, 30)
  ) AS "t1"
  GROUP BY
    1
) AS "t2"
ORDER BY
  "t2"."period" ASC
