SELECT
  "t5"."period",
  CASE
    WHEN "t5"."denominator" > 0
    THEN (
      "t5"."numerator" / "t5"."denominator"
    ) * 1.0
    ELSE CAST(NULL AS DOUBLE)
  END AS "value",
  "t5"."numerator",
  "t5"."denominator"
FROM (
  SELECT
    "t4"."period",
    COALESCE(SUM("t4"."outstanding_balance") FILTER(WHERE
      "t4"."days_past_due" > 90), 0) AS "numerator",
    COALESCE(
      SUM("t4"."outstanding_balance") FILTER(WHERE
        "t4"."risk_class" IN ('substandard', 'doubtful', 'loss')),
      0
    ) AS "denominator"
  FROM (
    SELECT
      "t3".*
      EXCLUDE ("_last")
    FROM (
      SELECT
        *
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
          "t1"."period",
          MAX("t1"."snapshot_date") OVER (
            PARTITION BY "t1"."period"
            ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
          ) AS "_last"
        FROM (
          SELECT
            "t0"."snapshot_date",
            "t0"."loan_id",
            "t0"."contract_id",
            "t0"."customer_id",
            "t0"."customer_name",
            "t0"."branch_id",
            "t0"."product",
            "t0"."customer_segment",
            "t0"."industry",
            "t0"."disbursement_date",
            "t0"."maturity_date",
            "t0"."loan_amount",
            "t0"."outstanding_balance",
            "t0"."overdue_principal",
            "t0"."overdue_interest",
            "t0"."days_past_due",
            "t0"."risk_class",
            "t0"."interest_rate_pct",
            "t0"."pricing_benchmark",
            "t0"."spread_bp",
            "t0"."guarantee_type",
            "t0"."approver_id",
            "t0"."approval_date",
            "t0"."loan_officer",
            "t0"."batch_id",
            "t0"."source_file",
            "t0"."source_row",
            DATE_TRUNC('MONTH', "t0"."snapshot_date") AS "period"
          FROM "loan_snapshot" AS "t0"
          WHERE
            "t0"."snapshot_date" >= MAKE_DATE(2025, 1, 1)
            AND "t0"."snapshot_date" <= MAKE_DATE(2025, 6, 30)
        ) AS "t1"
      ) AS "t2"
      WHERE
        "t2"."snapshot_date" = "t2"."_last"
    ) AS "t3"
  ) AS "t4"
  GROUP BY
    1
) AS "t5"
ORDER BY
  "t5"."period" ASC
