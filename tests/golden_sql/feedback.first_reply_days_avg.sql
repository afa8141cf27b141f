SELECT
  "t2"."period",
  "t2"."value" * 1.0 AS "value"
FROM (
  SELECT
    "t1"."period",
    AVG(
      (
        EPOCH(CAST("t1"."replied_at" AS TIMESTAMP)) - EPOCH(CAST("t1"."received_at" AS TIMESTAMP))
      ) / 86400.0
    ) FILTER(WHERE
      (
        "t1"."feedback_kind" = 'complaint'
      ) AND (
        "t1"."replied_at" IS NOT NULL
      )) AS "value"
  FROM (
    SELECT
      "t0"."feedback_id",
      "t0"."channel",
      "t0"."received_at",
      "t0"."feedback_kind",
      "t0"."branch_id",
      "t0"."branch_name",
      "t0"."business_line",
      "t0"."cause_category",
      "t0"."hot_topic",
      "t0"."complexity",
      "t0"."description",
      "t0"."handler_dept",
      "t0"."status",
      "t0"."replied_at",
      "t0"."closed_at",
      "t0"."satisfaction",
      "t0"."nps_score",
      "t0"."batch_id",
      "t0"."source_file",
      "t0"."source_row",
      CAST(DATE_TRUNC('MONTH', "t0"."received_at") AS DATE) AS "period"
    FROM "feedback_records" AS "t0"
    WHERE
      CAST("t0"."received_at" AS DATE) >= MAKE_DATE(2025, 1, 1)
      AND CAST("t0"."received_at" AS DATE) <= MAKE_DATE(2025, 6, 30)
  ) AS "t1"
  GROUP BY
    1
) AS "t2"
ORDER BY
  "t2"."period" ASC
