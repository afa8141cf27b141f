SELECT
  "t2"."period",
  CAST("t2"."value" AS DOUBLE) * 1.0 AS "value"
FROM (
  SELECT
    "t1"."period",
    COUNT(*) FILTER(WHERE
      "t1"."status" = 'served') AS "value"
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
  ) AS "t1"
  GROUP BY
    1
) AS "t2"
ORDER BY
  "t2"."period" ASC
