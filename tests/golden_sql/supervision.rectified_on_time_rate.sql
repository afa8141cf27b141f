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
      (
        (
          "t1"."first_deadline" <= MAKE_DATE(2025, 6, 30)
        ) = TRUE
      )
      AND (
        (
          (
            "t1"."first_rectified_on" IS NOT NULL
          )
          AND (
            "t1"."first_rectified_on" <= "t1"."first_deadline"
          )
        ) = TRUE
      )) AS "numerator",
    COUNT(*) FILTER(WHERE
      (
        "t1"."first_deadline" <= MAKE_DATE(2025, 6, 30)
      ) = TRUE) AS "denominator"
  FROM (
    SELECT
      "t0"."notice_id",
      "t0"."branch_id",
      "t0"."issued_on",
      "t0"."first_deadline",
      "t0"."deadline",
      "t0"."status",
      "t0"."round",
      "t0"."responsible_dept",
      "t0"."first_rectified_on",
      "t0"."settled_on",
      "t0"."passed_on",
      DATE_TRUNC('MONTH', "t0"."first_deadline") AS "period"
    FROM "sup_notices" AS "t0"
    WHERE
      "t0"."first_deadline" >= MAKE_DATE(2025, 1, 1)
      AND "t0"."first_deadline" <= MAKE_DATE(2025, 6, 30)
  ) AS "t1"
  GROUP BY
    1
) AS "t2"
ORDER BY
  "t2"."period" ASC
