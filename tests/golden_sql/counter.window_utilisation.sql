SELECT
  "t13"."period",
  CASE
    WHEN "t13"."denominator" > 0
    THEN (
      "t13"."numerator" / "t13"."denominator"
    ) * 1.0
    ELSE CAST(NULL AS DOUBLE)
  END AS "value",
  "t13"."numerator",
  "t13"."denominator"
FROM (
  SELECT
    "t12"."period",
    COALESCE("t8"."numerator", 0) AS "numerator",
    "t12"."denominator"
  FROM (
    SELECT
      "t10"."period",
      "t10"."value" AS "denominator"
    FROM (
      SELECT
        "t9"."period",
        SUM("t9"."_cap") AS "value"
      FROM (
        SELECT
          "t4"."branch_id",
          "t4"."business_date",
          "t4"."period",
          "t6"."_bid",
          "t6"."_cap"
        FROM (
          SELECT DISTINCT
            "t0"."branch_id",
            "t0"."business_date",
            DATE_TRUNC('MONTH', "t0"."business_date") AS "period"
          FROM "counter_tickets" AS "t0"
          WHERE
            "t0"."business_date" >= MAKE_DATE(2025, 1, 1)
            AND "t0"."business_date" <= MAKE_DATE(2025, 6, 30)
        ) AS "t4"
        LEFT OUTER JOIN (
          SELECT
            "t1"."branch_id" AS "_bid",
            COALESCE("t1"."open_windows", 0) * COALESCE("t1"."opening_minutes", 480) * 60.0 AS "_cap"
          FROM "branches" AS "t1"
        ) AS "t6"
          ON "t4"."branch_id" = "t6"."_bid"
      ) AS "t9"
      GROUP BY
        1
    ) AS "t10"
  ) AS "t12"
  LEFT OUTER JOIN (
    SELECT
      "t2"."period",
      COALESCE(SUM("t2"."service_seconds") FILTER(WHERE
        "t2"."status" = 'served'), 0) AS "numerator"
    FROM (
      SELECT
        "t0"."branch_id",
        "t0"."branch_name",
        "t0"."business_date",
        "t0"."ticket_no",
        "t0"."service_type",
        "t0"."customer_tier",
        "t0"."ticket_time",
        "t0"."call_time",
        "t0"."service_start_time",
        "t0"."service_end_time",
        "t0"."window_no",
        "t0"."teller_id",
        "t0"."teller_name",
        "t0"."status",
        "t0"."wait_seconds",
        "t0"."service_seconds",
        "t0"."queue_len_at_ticket",
        "t0"."rating",
        "t0"."batch_id",
        "t0"."source_file",
        "t0"."source_row",
        DATE_TRUNC('MONTH', "t0"."business_date") AS "period"
      FROM "counter_tickets" AS "t0"
      WHERE
        "t0"."business_date" >= MAKE_DATE(2025, 1, 1)
        AND "t0"."business_date" <= MAKE_DATE(2025, 6, 30)
    ) AS "t2"
    GROUP BY
      1
  ) AS "t8"
    ON "t12"."period" IS NOT DISTINCT FROM "t8"."period"
) AS "t13"
ORDER BY
  "t13"."period" ASC
