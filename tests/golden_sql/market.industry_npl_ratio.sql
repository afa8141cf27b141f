SELECT
  "t2"."period",
  "t2"."value" * 1.0 AS "value"
FROM (
  SELECT
    "t1"."period",
    FIRST("t1"."value" ORDER BY "t1"."date" DESC) FILTER(WHERE
      "t1"."indicator_code" = 'NPL_RATIO_CB') AS "value"
  FROM (
    SELECT
      "t0"."indicator_code",
      "t0"."indicator_name",
      "t0"."date",
      "t0"."frequency",
      "t0"."value",
      "t0"."unit",
      "t0"."region",
      "t0"."source",
      "t0"."release_date",
      "t0"."batch_id",
      "t0"."source_file",
      "t0"."source_row",
      DATE_TRUNC('MONTH', "t0"."date") AS "period"
    FROM "market_indicators" AS "t0"
    WHERE
      "t0"."date" >= MAKE_DATE(2025, 1, 1) AND "t0"."date" <= MAKE_DATE(2025, 6, 30)
  ) AS "t1"
  GROUP BY
    1
) AS "t2"
ORDER BY
  "t2"."period" ASC
