SELECT
  "t8"."period",
  CASE
    WHEN CAST("t8"."denominator" AS DOUBLE) > 0
    THEN (
      CAST("t8"."numerator" AS DOUBLE) / CAST("t8"."denominator" AS DOUBLE)
    ) * 10000.0
    ELSE CAST(NULL AS DOUBLE)
  END AS "value",
  CAST("t8"."numerator" AS DOUBLE) AS "numerator",
  CAST("t8"."denominator" AS DOUBLE) AS "denominator"
FROM (
  SELECT
    "t5"."period",
    COALESCE("t7"."numerator", 0) AS "numerator",
    "t5"."denominator"
  FROM (
    SELECT
      "t2"."period",
      COUNT(*) FILTER(WHERE
        "t2"."status" = 'served') AS "denominator"
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
  ) AS "t5"
  LEFT OUTER JOIN (
    SELECT
      "t3"."period",
      COUNT(*) FILTER(WHERE
        "t3"."feedback_kind" = 'complaint') AS "numerator"
    FROM (
      SELECT
        "t1"."feedback_id",
        "t1"."channel",
        "t1"."received_at",
        "t1"."feedback_kind",
        "t1"."branch_id",
        "t1"."branch_name",
        "t1"."business_line",
        "t1"."cause_category",
        "t1"."hot_topic",
        "t1"."complexity",
        "t1"."description",
        "t1"."handler_dept",
        "t1"."status",
        "t1"."replied_at",
        "t1"."closed_at",
        "t1"."satisfaction",
        "t1"."nps_score",
        "t1"."batch_id",
        "t1"."source_file",
        "t1"."source_row",
        CAST(DATE_TRUNC('MONTH', "t1"."received_at") AS DATE) AS "period"
      FROM "feedback_records" AS "t1"
      WHERE
        CAST("t1"."received_at" AS DATE) >= MAKE_DATE(2025, 1, 1)
        AND CAST("t1"."received_at" AS DATE) <= MAKE_DATE(2025, 6, 30)
    ) AS "t3"
    GROUP BY
      1
  ) AS "t7"
    ON "t5"."period" IS NOT DISTINCT FROM "t7"."period"
) AS "t8"
ORDER BY
  "t8"."period" ASC
