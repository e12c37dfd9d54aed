#!/usr/bin/env python3
"""DuckDB computing the report `cflog analyze` makes, for `bench/compare.py`.

Usage: duckdb_report.py realtime|standard FILE FIELD,NAMES,... [THREADS]
Runs in the bench-only venv (duckdb pinned there by compare.py). Prints one JSON object:
records, bytes, counts by status / status class / result type / method / protocol, the
cache hit ratio, quantiles of time-taken and time-to-first-byte, the top 10 of URI, IP,
referer, user agent, edge location, country and host, approximate distinct viewers, and
requests and 5xx per minute. The file is loaded once into a table of the columns the
report reads (as DuckDB users do), then queried.
"""
import json, sys

import duckdb

fmt, path, names = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
threads = int(sys.argv[4]) if len(sys.argv) > 4 else 1


def col(*candidates):
    for c in candidates:
        if c in names:
            return '"' + c + '"'
    return "NULL"


con = duckdb.connect()
con.execute(f"SET threads = {threads}")
if fmt == "realtime":
    minute = f"to_timestamp(floor(TRY_CAST({col('timestamp')} AS DOUBLE) / 60) * 60)"
else:
    minute = f"date_trunc('minute', TRY_CAST({col('date')} || ' ' || {col('time')} AS TIMESTAMP))"
columns = "{" + ", ".join(f"'{n}': 'VARCHAR'" for n in names) + "}"
con.execute(
    f"""
    CREATE TABLE t AS SELECT
      {minute} AS minute,
      NULLIF({col('c-ip')}, '-') AS ip,
      TRY_CAST({col('sc-status')} AS INTEGER) AS status,
      TRY_CAST({col('sc-bytes')} AS UBIGINT) AS bytes,
      NULLIF({col('cs-method')}, '-') AS method,
      NULLIF({col('cs-protocol')}, '-') AS protocol,
      NULLIF({col('cs-uri-stem')}, '-') AS uri,
      NULLIF({col('x-edge-location')}, '-') AS edge,
      TRY_CAST({col('time-taken')} AS DOUBLE) AS time_taken,
      TRY_CAST({col('time-to-first-byte')} AS DOUBLE) AS ttfb,
      NULLIF({col('cs-user-agent', 'cs(User-Agent)')}, '-') AS ua,
      NULLIF({col('cs-referer', 'cs(Referer)')}, '-') AS referer,
      NULLIF({col('x-edge-result-type')}, '-') AS result,
      NULLIF({col('c-country')}, '-') AS country,
      NULLIF({col('cs-host', 'x-host-header', 'cs(Host)')}, '-') AS host
    FROM read_csv('{path}', delim = '\t', header = false, quote = '', escape = '',
                  comment = '#', columns = {columns}, auto_detect = false)
    """
)
q = lambda sql: con.execute(sql).fetchall()
report = {"records": q("SELECT count(*) FROM t")[0][0], "bytes": int(q("SELECT sum(bytes) FROM t")[0][0] or 0)}
for dim in ["status", "method", "protocol", "result"]:
    report[dim] = {str(k): v for k, v in q(f"SELECT {dim}, count(*) FROM t GROUP BY 1 ORDER BY 2 DESC")}
report["status_class"] = {
    str(k): v for k, v in q("SELECT CASE WHEN status = 0 THEN '000' WHEN status BETWEEN 100 AND 599 THEN (status // 100) || 'xx' ELSE 'other' END, count(*) FROM t GROUP BY 1")
}
hits, cacheable = q("SELECT count(*) FILTER (result IN ('Hit', 'RefreshHit')), count(*) FILTER (result IN ('Hit', 'RefreshHit', 'Miss')) FROM t")[0]
report["cache_hit_ratio"] = hits / cacheable if cacheable else None
for c in ["time_taken", "ttfb"]:
    report[c] = q(f"SELECT approx_quantile({c}, [0.5, 0.9, 0.99, 0.999]) FROM t")[0][0]
for dim in ["uri", "ip", "referer", "ua", "edge", "country", "host"]:
    report["top_" + dim] = q(f"SELECT {dim}, count(*) FROM t WHERE {dim} IS NOT NULL GROUP BY 1 ORDER BY 2 DESC LIMIT 10")
report["unique_viewers"] = q("SELECT approx_count_distinct(ip) FROM t")[0][0]
report["per_minute"] = len(q("SELECT minute, count(*), count(*) FILTER (status BETWEEN 500 AND 599) FROM t GROUP BY 1 ORDER BY 1"))
print(json.dumps(report, default=str))
