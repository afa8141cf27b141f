SELECT
  "t3"."period",
  "t3"."value" * 1.0 AS "value"
FROM (
  SELECT
    "t2"."period",
    COALESCE(SUM("t2"."loan_amount"), 0) AS "value"
  FROM (
    SELECT
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
      "t1"."interest_rate_pct",
      "t1"."pricing_benchmark",
      "t1"."spread_bp",
      "t1"."guarantee_type",
      "t1"."approver_id",
      "t1"."approval_date",
      "t1"."loan_officer",
      DATE_TRUNC('MONTH', "t1"."disbursement_date") AS "period"
    FROM (
      SELECT
        "t0"."loan_id",
        MAX("t0"."contract_id") AS "contract_id",
        MAX("t0"."customer_id") AS "customer_id",
        MAX("t0"."customer_name") AS "customer_name",
        MAX("t0"."branch_id") AS "branch_id",
        MAX("t0"."product") AS "product",
        MAX("t0"."customer_segment") AS "customer_segment",
        MAX("t0"."industry") AS "industry",
        MAX("t0"."disbursement_date") AS "disbursement_date",
        MAX("t0"."maturity_date") AS "maturity_date",
        MAX("t0"."loan_amount") AS "loan_amount",
        MAX("t0"."interest_rate_pct") AS "interest_rate_pct",
        MAX("t0"."pricing_benchmark") AS "pricing_benchmark",
        MAX("t0"."spread_bp") AS "spread_bp",
        MAX("t0"."guarantee_type") AS "guarantee_type",
        MAX("t0"."approver_id") AS "approver_id",
        MAX("t0"."approval_date") AS "approval_date",
        MAX("t0"."loan_officer") AS "loan_officer"
      FROM "loan_snapshot" AS "t0"
      GROUP BY
        1
    ) AS "t1"
    WHERE
      "t1"."disbursement_date" >= MAKE_DATE(2025, 1, 1)
      AND "t1"."disbursement_date" <= MAKE_DATE(2025, 6, 30)
  ) AS "t2"
  GROUP BY
    1
) AS "t3"
ORDER BY
  "t3"."period" ASC
