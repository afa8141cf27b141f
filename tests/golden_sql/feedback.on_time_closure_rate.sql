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
        "t1"."feedback_kind" = 'complaint'
      )
      AND (
        "t1"."status" <> 'withdrawn'
      )
      AND (
        (
          (
            "t1"."status" = 'closed'
          )
          AND (
            (
              (
                EPOCH(CAST(CAST("t1"."closed_at" AS DATE) AS TIMESTAMP)) - EPOCH(CAST(CAST("t1"."received_at" AS DATE) AS TIMESTAMP))
              ) / 86400.0
            ) <= CASE
              WHEN "t1"."complexity" = 'very_complex'
              THEN 60
              WHEN "t1"."complexity" = 'complex'
              THEN 30
              ELSE 15
            END
          )
        ) = TRUE
      )) AS "numerator",
    COUNT(*) FILTER(WHERE
      (
        "t1"."feedback_kind" = 'complaint'
      )
      AND (
        "t1"."status" <> 'withdrawn'
      )
      AND (
        (
          (
            "t1"."status" = 'closed'
          )
          OR (
            (
              EPOCH(CAST(CAST("t1"."received_at" AS DATE) AS TIMESTAMP)) + (
                CASE
                  WHEN "t1"."complexity" = 'very_complex'
                  THEN 60
                  WHEN "t1"."complexity" = 'complex'
                  THEN 30
                  ELSE 15
                END * 86400
              )
            ) < EPOCH(CAST(MAKE_DATE(2025, 6, 30) AS TIMESTAMP))
          )
        ) = TRUE
      )) AS "denominator"
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
