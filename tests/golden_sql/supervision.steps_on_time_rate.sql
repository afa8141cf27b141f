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
    COUNT(DISTINCT "t1"."step_key") FILTER(WHERE
      (
        (
          (
            "t1"."deadline" <= MAKE_DATE(2025, 6, 30)
          )
          OR (
            "t1"."done_on" IS NOT NULL
          )
        ) = TRUE
      )
      AND (
        "t1"."on_time" = TRUE
      )) AS "numerator",
    COUNT(DISTINCT "t1"."step_key") FILTER(WHERE
      (
        (
          "t1"."deadline" <= MAKE_DATE(2025, 6, 30)
        )
        OR (
          "t1"."done_on" IS NOT NULL
        )
      ) = TRUE) AS "denominator"
  FROM (
    SELECT
      "t0"."step_key",
      "t0"."plan_id",
      "t0"."step_no",
      "t0"."branch_id",
      "t0"."kind",
      "t0"."plan_status",
      "t0"."dept",
      "t0"."deadline",
      "t0"."done_on",
      "t0"."on_time",
      DATE_TRUNC('MONTH', "t0"."deadline") AS "period"
    FROM "sup_steps" AS "t0"
    WHERE
      CAST("t0"."deadline" AS DATE) >= MAKE_DATE(2025, 1, 1)
      AND CAST("t0"."deadline" AS DATE) <= MAKE_DATE(2025, 6, 30)
  ) AS "t1"
  GROUP BY
    1
) AS "t2"
ORDER BY
  "t2"."period" ASC
