-- name: create_macros
-- The value parsers of the ingest fast path: one temporary macro per column type, created on
-- the ingest cursor. Raw cells arrive as VARCHAR exactly as the export wrote them; each macro
-- returns the typed value or NULL, and validation reports a non-empty cell that parsed to NULL.
-- Every macro tries a cheap cast first and only falls back to regular expressions and format
-- lists for the rare spellings (bench/ingest_bench.py measures a 1M-row load against DuckDB's
-- bare read_csv). Each `bp_x(v)` is `bp_x_s(bp_clean(v))`: the ingest SELECT cleans every cell
-- once in a subquery and applies the `_s` forms, since a macro argument used several times (in
-- CASE branches above all) is evaluated each time.
--
-- bp_clean: ASCII cells only lose surrounding blanks and Excel's text markers (a leading ' or
-- tab); cells with other characters also get full-width digits/punctuation made half-width.
-- translate() is slow (about 1 s per million cells), so it only runs on a cell that holds one of
-- the full-width characters; for any other cell it would return the cell unchanged, and ltrim
-- likewise only runs when the first character is one it strips (same result, less work).
-- The first two tests are the common case, a cell that is clean already, returned as is without
-- building a new string (every branch below would return it unchanged): an ASCII cell that is not
-- empty, does not start with a tab, a blank or ' and does not end with a blank (trim() strips
-- only blanks among ASCII characters; no regular expression needed), or a cell that starts and ends
-- with a letter, digit or CJK ideograph and holds no full-width character.
CREATE OR REPLACE TEMP MACRO bp_clean(v) AS CASE
    WHEN strlen(v) = length(v) AND ord(v) NOT IN (-1, 9, 32, 39) AND NOT suffix(v, ' ') THEN v
    WHEN regexp_full_match(v, '[0-9A-Za-z\x{4e00}-\x{9fff}](?:[^０１２３４５６７８９，．－（）％：／＋　]*[0-9A-Za-z\x{4e00}-\x{9fff}])?') THEN v
    ELSE nullif(CASE
    WHEN strlen(v) = length(v) THEN
        CASE WHEN prefix(v, chr(39)) OR prefix(v, chr(9)) THEN trim(ltrim(v, chr(39) || chr(9) || ' ')) ELSE trim(v) END
    WHEN NOT regexp_matches(v, '[０１２３４５６７８９，．－（）％：／＋　]') THEN
        CASE WHEN prefix(v, chr(39)) OR prefix(v, chr(9)) OR prefix(v, ' ') OR prefix(v, chr(12288))
             THEN trim(ltrim(v, chr(39) || chr(9) || ' ' || chr(12288))) ELSE trim(v) END
    ELSE trim(ltrim(translate(v, '０１２３４５６７８９，．－（）％：／＋　', '0123456789,.-()%:/+ '),
                    chr(39) || chr(9) || ' ' || chr(12288)))
    END, '') END;
-- bp_null: the placeholders exports use for "no value" (applied after bp_clean).
CREATE OR REPLACE TEMP MACRO bp_null(s) AS s IS NULL OR s IN ('-', '--', '---', '—', '——', '/', '\',
    'N/A', 'n/a', 'NA', '#N/A', 'null', 'NULL', 'None', 'nan', 'NaN', '无');
-- bp_num: 1,234.56 / (1,234.00) / ¥12 / ￥1,000元 / 12.3% / -5 (the % sign is dropped: percent
-- columns hold percent units, 3.45 meaning 3.45 %). Non-finite values are refused.
CREATE OR REPLACE TEMP MACRO bp_num_slow(s) AS CASE
    WHEN regexp_full_match(s, '\((.*)\)') THEN -TRY_CAST(regexp_replace(s, '[(),¥￥%\s]|元$', '', 'g') AS DOUBLE)
    ELSE TRY_CAST(regexp_replace(s, '[,¥￥%\s]|元$', '', 'g') AS DOUBLE) END;
-- The cast is tried once; coalesce only evaluates the slow path for the cells the cast refused.
-- Non-finite results (nan, inf, '%nan', '(inf)', 1e999) are NULL whichever path produced them.
CREATE OR REPLACE TEMP MACRO bp_finite(d) AS CASE WHEN isfinite(d) THEN d END;
CREATE OR REPLACE TEMP MACRO bp_num_s(s) AS CASE
    WHEN bp_null(s) THEN NULL
    ELSE bp_finite(coalesce(TRY_CAST(s AS DOUBLE), bp_num_slow(s))) END;
CREATE OR REPLACE TEMP MACRO bp_num(v) AS bp_num_s(bp_clean(v));
-- bp_int: an integer (20.0 from Excel is accepted; 20.5 is not).
CREATE OR REPLACE TEMP MACRO bp_int_d(d) AS CASE WHEN d = round(d) AND abs(d) < 9e15 THEN CAST(d AS BIGINT) END;
CREATE OR REPLACE TEMP MACRO bp_int_s(s) AS bp_int_d(bp_num_s(s));
CREATE OR REPLACE TEMP MACRO bp_int(v) AS bp_int_s(bp_clean(v));
-- bp_ts: every date/time spelling of DOMAIN.md §2.2: ISO, 2025/1/3 9:15, 2025.1.3, 2025年1月3日,
-- 20250103 (often an integer), and Excel serial numbers (45660 = 2025-01-03, epoch 1899-12-30).
CREATE OR REPLACE TEMP MACRO bp_ts_slow(s) AS CASE
    WHEN regexp_full_match(s, '[1-9][0-9]{4}(\.[0-9]+)?') AND TRY_CAST(s AS DOUBLE) BETWEEN 1 AND 2958465
        THEN TIMESTAMP '1899-12-30' + to_microseconds(CAST(round(TRY_CAST(s AS DOUBLE) * 86400000000) AS BIGINT))
    WHEN regexp_full_match(s, '(19|20)[0-9]{6}(\.0+)?') THEN try_strptime(left(s, 8), '%Y%m%d')
    ELSE try_strptime(s, ['%Y/%m/%d %H:%M:%S', '%Y/%m/%d %H:%M', '%Y/%m/%d', '%Y.%m.%d', '%Y.%m.%d %H:%M:%S',
        '%Y-%m-%d %H:%M:%S', '%Y-%m-%d %H:%M', '%Y-%m-%d', '%Y-%m-%dT%H:%M:%S',
        '%Y年%m月%d日', '%Y年%m月%d日 %H:%M:%S', '%Y年%m月%d日 %H:%M', '%Y年%m月%d日%H:%M:%S',
        '%Y年%m月%d日%H时%M分%S秒', '%Y%m%d %H:%M:%S', '%Y%m%d%H%M%S'])
    END;
-- (cast once: coalesce evaluates bp_ts_slow only where TRY_CAST gave NULL)
-- ('infinity' and 'INF' cast to an infinite timestamp: refused, like a non-finite number)
CREATE OR REPLACE TEMP MACRO bp_ts_s(s) AS CASE
    WHEN bp_null(s) THEN NULL
    ELSE bp_finite(coalesce(TRY_CAST(s AS TIMESTAMP), bp_ts_slow(s))) END;
CREATE OR REPLACE TEMP MACRO bp_ts(v) AS bp_ts_s(bp_clean(v));
CREATE OR REPLACE TEMP MACRO bp_date_s(s) AS CAST(bp_ts_s(s) AS DATE);
CREATE OR REPLACE TEMP MACRO bp_date(v) AS bp_date_s(bp_clean(v));
-- bp_id: identifiers stay text (leading zeros kept); an integral float from Excel loses its
-- '.0'; Excel's scientific notation (1.23E+18, digits already lost) is refused: see bp_id_mangled.
CREATE OR REPLACE TEMP MACRO bp_id_mangled_s(s) AS coalesce(regexp_full_match(s, '[0-9]+(\.[0-9]+)?[eE][+]?[0-9]+'), false);
CREATE OR REPLACE TEMP MACRO bp_id_s(s) AS CASE
    WHEN bp_null(s) THEN NULL
    WHEN NOT contains(s, '.') AND NOT contains(s, 'e') AND NOT contains(s, 'E') THEN s
    WHEN bp_id_mangled_s(s) THEN NULL
    WHEN regexp_full_match(s, '[0-9]{1,15}\.0+') THEN regexp_replace(s, '\.0+$', '')
    ELSE s END;
CREATE OR REPLACE TEMP MACRO bp_id(v) AS bp_id_s(bp_clean(v));
CREATE OR REPLACE TEMP MACRO bp_id_mangled(v) AS bp_id_mangled_s(bp_clean(v));
CREATE OR REPLACE TEMP MACRO bp_str_s(s) AS CASE WHEN bp_null(s) THEN NULL ELSE s END;
CREATE OR REPLACE TEMP MACRO bp_str(v) AS bp_str_s(bp_clean(v));
CREATE OR REPLACE TEMP MACRO bp_text(v) AS nullif(trim(v), '');
-- bp_enum_key: the spelling key an enum value is looked up by (cleaned, lower-case).
CREATE OR REPLACE TEMP MACRO bp_enum_key_s(s) AS lower(bp_str_s(s));
CREATE OR REPLACE TEMP MACRO bp_enum_key(v) AS bp_enum_key_s(bp_clean(v));
-- bp_total_row: a 合计/总计/小计 (total) line that summary exports append at the bottom.
-- The regular expression only runs on a cell whose first character could start a match: one of
-- 合总小累汇 or a Latin letter (a superset of t/T/s/S/ſ, what 'i' case-folds t and s to); a cell
-- starting with a digit, a NULL cell or any other character is not a total line.
CREATE OR REPLACE TEMP MACRO bp_total_row_s(s) AS CASE
    WHEN ord(s) IN (21512, 24635, 23567, 32047, 27719) OR (ord(s) >= 65 AND ord(s) < 592)
        THEN regexp_matches(s, '^(合计|总计|小计|累计|汇总|total|sum)', 'i')
    ELSE false END;
CREATE OR REPLACE TEMP MACRO bp_total_row(v) AS bp_total_row_s(bp_clean(v));
