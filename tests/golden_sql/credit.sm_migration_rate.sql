WITH "t12" AS (
  SELECT
    "t11"."loan_id",
    "t11"."period",
    "t11"."start_bal",
    "t11"."_bid",
    "t9"."_lid",
    "t9"."_period",
    "t9"."end_bal",
    "t9"."end_class"
  FROM (
    SELECT
      "t8"."loan_id",
      "t8"."period",
      "t8"."outstanding_balance" AS "start_bal",
      "t8"."branch_id" AS "_bid"
    FROM (
      SELECT
        "t1"."snapshot_date",
        "t1"."loan_id",
        "t1"."contract_id",
        "t1"."customer_id",
        "t1"."customer_name",
        "t1"."branch_id",
        "t1"."product",
        "t1"."customer_segment",
        "t1"."industry",
        "t1"."disbursement_date",
        "t1"."maturity_date",
        "t1"."loan_amount",
        "t1"."outstanding_balance",
        "t1"."overdue_principal",
        "t1"."overdue_interest",
        "t1"."days_past_due",
        "t1"."risk_class",
        "t1"."interest_rate_pct",
        "t1"."pricing_benchmark",
        "t1"."spread_bp",
        "t1"."guarantee_type",
        "t1"."approver_id",
        "t1"."approval_date",
        "t1"."loan_officer",
        "t1"."batch_id",
        "t1"."source_file",
        "t1"."source_row",
        "t6"."period",
        "t6"."close",
        "t6"."open"
      FROM "loan_snapshot" AS "t1"
      INNER JOIN (
        SELECT
          *
        FROM (
          SELECT
            "t3"."period",
            "t3"."close",
            LAG("t3"."close") OVER (
              ORDER BY "t3"."period" ASC
              ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
            ) AS "open"
          FROM (
            SELECT
              "t2"."period",
              MAX("t2"."snapshot_date") AS "close"
            FROM (
              SELECT DISTINCT
                "t0"."snapshot_date",
                DATE_TRUNC('MONTH', "t0"."snapshot_date") AS "period"
              FROM "loan_snapshot" AS "t0"
              WHERE
                "t0"."snapshot_date" >= MAKE_DATE(2024, 12, 1)
                AND "t0"."snapshot_date" <= MAKE_DATE(2025, 6, 30)
            ) AS "t2"
            GROUP BY
              1
          ) AS "t3"
        ) AS "t4"
        WHERE
          "t4"."period" >= MAKE_DATE(2025, 1, 1) AND "t4"."open" IS NOT NULL
      ) AS "t6"
        ON "t1"."snapshot_date" = "t6"."open"
    ) AS "t8"
    WHERE
      "t8"."risk_class" = 'special_mention'
  ) AS "t11"
  LEFT OUTER JOIN (
    SELECT
      "t1"."loan_id" AS "_lid",
      "t6"."period" AS "_period",
      "t1"."outstanding_balance" AS "end_bal",
      "t1"."risk_class" AS "end_class"
    FROM "loan_snapshot" AS "t1"
    INNER JOIN (
      SELECT
        *
      FROM (
        SELECT
          "t3"."period",
          "t3"."close",
          LAG("t3"."close") OVER (
            ORDER BY "t3"."period" ASC
            ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
          ) AS "open"
        FROM (
          SELECT
            "t2"."period",
            MAX("t2"."snapshot_date") AS "close"
          FROM (
            SELECT DISTINCT
              "t0"."snapshot_date",
              DATE_TRUNC('MONTH', "t0"."snapshot_date") AS "period"
            FROM "loan_snapshot" AS "t0"
            WHERE
              "t0"."snapshot_date" >= MAKE_DATE(2024, 12, 1)
              AND "t0"."snapshot_date" <= MAKE_DATE(2025, 6, 30)
          ) AS "t2"
          GROUP BY
            1
        ) AS "t3"
      ) AS "t4"
      WHERE
        "t4"."period" >= MAKE_DATE(2025, 1, 1) AND "t4"."open" IS NOT NULL
    ) AS "t6"
      ON "t1"."snapshot_date" = "t6"."close"
  ) AS "t9"
    ON "t11"."loan_id" = "t9"."_lid" AND "t11"."period" = "t9"."_period"
)
SELECT
  "t20"."period",
  CASE
    WHEN "t20"."denominator" > 0
    THEN (
      "t20"."numerator" / "t20"."denominator"
    ) * 1.0
    ELSE CAST(NULL AS DOUBLE)
  END AS "value",
  "t20"."numerator",
  "t20"."denominator"
FROM (
  SELECT
    "t18"."period",
    COALESCE("t19"."numerator", 0) AS "numerator",
    "t18"."denominator"
  FROM (
    SELECT
      "t14"."period",
      "t14"."value" AS "denominator"
    FROM (
      SELECT
        "t13"."period",
        COALESCE(SUM(LEAST(COALESCE("t13"."end_bal", 0), "t13"."start_bal")), 0) AS "value"
      FROM "t12" AS "t13"
      GROUP BY
        1
    ) AS "t14"
  ) AS "t18"
  LEFT OUTER JOIN (
    SELECT
      "t15"."period",
      "t15"."value" AS "numerator"
    FROM (
      SELECT
        "t13"."period",
        COALESCE(
          SUM(LEAST(COALESCE("t13"."end_bal", 0), "t13"."start_bal")) FILTER(WHERE
            "t13"."end_class" IN ('substandard', 'doubtful', 'loss')),
          0
        ) AS "value"
      FROM "t12" AS "t13"
      GROUP BY
        1
    ) AS "t15"
  ) AS "t19"
    ON "t18"."period" IS NOT DISTINCT FROM "t19"."period"
) AS "t20"
ORDER BY
  "t20"."period" ASC
