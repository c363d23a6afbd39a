#!/usr/bin/env python3
"""DuckDB side of scripts/bench-monitor.sh: the monitor's own SQL files (crates/monitor/sql/),
with the placeholders the anxin run used (its params.json), over the same Parquet files.
Prints one JSON line: seconds per query, rows per query, and the total.

usage: bench-monitor-duckdb.py DATA_DIR PARAMS_JSON THREADS [FILE.sql ...]
  FILE.sql  time these SQL files (variants of a query, same placeholders) instead of the five;
            each gets its seconds, rows and a digest of its rows (to check two give the same)
"""
import hashlib
import json
import pathlib
import sys
import time

import duckdb

data, params, threads = pathlib.Path(sys.argv[1]), json.load(open(sys.argv[2])), int(sys.argv[3])
sql_dir = pathlib.Path(__file__).resolve().parent.parent / "crates" / "monitor" / "sql"
con = duckdb.connect()
con.execute(f"SET threads = {threads}")
mon = data / "monitor"
con.execute(
    f"CREATE VIEW orders AS SELECT * FROM read_parquet('{mon}/orders/**/*.parquet', hive_partitioning = false)"
)
con.execute(f"CREATE VIEW insured AS SELECT * FROM read_parquet('{mon}/insured/insured.parquet')")
# The school cohort, as the run registers it: its file, or no row.
if (mon / "insured" / "school.parquet").exists():
    con.execute(f"CREATE VIEW school AS SELECT * FROM read_parquet('{mon}/insured/school.parquet')")
else:
    con.execute("CREATE VIEW school AS SELECT CAST(0 AS BIGINT) AS person, CAST(0 AS INTEGER) AS reviewed WHERE false")
out = {"engine": "duckdb", "version": duckdb.__version__, "queries": {}, "rows": {}}
t0 = time.perf_counter()
files = sys.argv[4:] or [sql_dir / f"{n}.sql" for n in ["alerts", "compliance", "injury", "union", "counted"]]
for f in files:
    f = pathlib.Path(f)
    name = f.stem if len(sys.argv) == 4 else str(f)
    sql = f.read_text()
    for k, v in params.items():
        sql = sql.replace("{" + k + "}", str(v))
    t = time.perf_counter()
    rows = con.execute(sql).fetchall()
    out["queries"][name] = time.perf_counter() - t
    out["rows"][name] = len(rows)
    if len(sys.argv) > 4:
        out.setdefault("digest", {})[name] = hashlib.sha256(repr(rows).encode()).hexdigest()[:16]
out["seconds"] = time.perf_counter() - t0
print(json.dumps(out))
