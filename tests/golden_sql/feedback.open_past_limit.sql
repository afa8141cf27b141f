SELECT
  "t7"."period",
  CAST("t7"."value" AS DOUBLE) * 1.0 AS "value"
FROM (
  SELECT
    "t6"."period",
    COUNT(*) AS "value"
  FROM (
    SELECT
      *
    FROM (
      SELECT
        "t4"."feedback_id",
        "t4"."channel",
        "t4"."received_at",
        "t4"."feedback_kind",
        "t4"."branch_id",
        "t4"."branch_name",
        "t4"."business_line",
        "t4"."cause_category",
        "t4"."hot_topic",
        "t4"."complexity",
        "t4"."description",
        "t4"."handler_dept",
        "t4"."status",
        "t4"."replied_at",
        "t4"."closed_at",
        "t4"."satisfaction",
        "t4"."nps_score",
        "t4"."batch_id",
        "t4"."source_file",
        "t4"."source_row",
        "t4"."_sla",
        "t4"."_recv",
        "t2"."period",
        "t2"."period_end"
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
          CASE
            WHEN "t0"."complexity" = 'very_complex'
            THEN 60
            WHEN "t0"."complexity" = 'complex'
            THEN 30
            ELSE 15
          END AS "_sla",
          CAST("t0"."received_at" AS DATE) AS "_recv"
        FROM "feedback_records" AS "t0"
        WHERE
          "t0"."feedback_kind" = 'complaint' AND "t0"."status" <> 'withdrawn'
      ) AS "t4"
      INNER JOIN "ibis_pandas_memtable" AS "t2"
        ON "t4"."_recv" <= "t2"."period_end"
    ) AS "t5"
    WHERE
      (
        (
          "t5"."closed_at" IS NULL
        )
        OR (
          CAST("t5"."closed_at" AS DATE) > "t5"."period_end"
        )
      )
      AND (
        (
          EPOCH(CAST("t5"."period_end" AS TIMESTAMP)) - EPOCH(CAST("t5"."_recv" AS TIMESTAMP))
        ) / 86400.0
      ) > "t5"."_sla"
  ) AS "t6"
  GROUP BY
    1
) AS "t7"
ORDER BY
  "t7"."period" ASC
