SELECT
  "t6"."period",
  CAST("t6"."value" AS DOUBLE) * 1.0 AS "value"
FROM (
  SELECT
    "t5"."period",
    COUNT(*) AS "value"
  FROM (
    SELECT
      *
    FROM (
      SELECT
        "t2"."notice_id",
        "t2"."branch_id",
        "t2"."issued_on",
        "t2"."first_deadline",
        "t2"."deadline",
        "t2"."status",
        "t2"."round",
        "t2"."responsible_dept",
        "t2"."first_rectified_on",
        "t2"."settled_on",
        "t2"."passed_on",
        "t3"."period",
        "t3"."period_end"
      FROM "sup_notices" AS "t2"
      INNER JOIN "ibis_pandas_memtable" AS "t3"
        ON "t2"."issued_on" <= "t3"."period_end"
    ) AS "t4"
    WHERE
      (
        (
          "t4"."settled_on" IS NULL
        ) OR (
          "t4"."settled_on" > "t4"."period_end"
        )
      )
      AND "t4"."deadline" < "t4"."period_end"
  ) AS "t5"
  GROUP BY
    1
) AS "t6"
ORDER BY
  "t6"."period" ASC
