#!/usr/bin/env python3
"""The DuckDB side of `pipewise bench pay`.

Usage: duckdb_pay.py DIR RUNS

DIR holds what the Rust side exported for the quarter: won.csv (owner, closed_day, deal,
amount: every credit of a won deal closed in the quarter, in the plan's currency at the close
date's rate, as Pipewise made it: this script checks the pay rules, not the conversion), quotas.csv (owner,
quota), pipewise_totals.csv (each rep's statement total as Pipewise computed it) and
pipewise_timings.json.

The plan is the one `pipewise_demo::set_quotas_and_pay` saves: 10% of bookings up to quota and
15% above (tiers on attainment, marginal), a 2,500 bonus at 100% of quota, a 60,000 cap on both.
In SQL: each rep's credits in booking order (closed day, then deal id), the running total before
each deal, the slice of it below quota and above, each slice times its rate rounded half away
from zero to the cent (one statement line each, as Pipewise rounds each line once), the bonus,
the cap. Loading the CSV is not timed (like the projection's load); the query is run on 2
threads, median of RUNS runs. Every rep's total must equal Pipewise's, or the script says whose
and exits 1.
"""

import csv
import json
import os
import statistics
import sys
import time
from decimal import Decimal

import duckdb

QUERY = """
WITH ordered AS (
    SELECT owner, deal, amount,
           SUM(amount) OVER (PARTITION BY owner ORDER BY closed_day, deal ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) - amount AS before
    FROM won
),
slices AS (
    SELECT o.owner, o.amount, q.quota,
           GREATEST(LEAST(o.before + o.amount, q.quota) - LEAST(o.before, q.quota), 0) AS low
    FROM ordered o JOIN quotas q USING (owner)
),
reps AS (
    SELECT owner,
           SUM(ROUND(low * 0.10, 2)) + SUM(ROUND((amount - low) * 0.15, 2)) AS commission,
           SUM(amount) AS bookings,
           ANY_VALUE(quota) AS quota
    FROM slices GROUP BY owner
)
SELECT owner, LEAST(commission + CASE WHEN bookings >= quota THEN 2500 ELSE 0 END, 60000) AS total
FROM reps ORDER BY owner
"""


def main() -> int:
    directory, runs = sys.argv[1], int(sys.argv[2])
    con = duckdb.connect()
    con.execute("SET threads = 2")
    started = time.perf_counter()
    con.execute(f"CREATE TABLE won AS SELECT owner::BIGINT AS owner, closed_day::INTEGER AS closed_day, deal::BIGINT AS deal, "
                f"amount::DECIMAL(18,2) AS amount FROM read_csv('{os.path.join(directory, 'won.csv')}', header = true, all_varchar = true)")
    con.execute(f"CREATE TABLE quotas AS SELECT owner::BIGINT AS owner, quota::DECIMAL(18,2) AS quota "
                f"FROM read_csv('{os.path.join(directory, 'quotas.csv')}', header = true, all_varchar = true)")
    load = time.perf_counter() - started
    times = []
    rows = []
    for _ in range(runs):
        started = time.perf_counter()
        rows = con.execute(QUERY).fetchall()
        times.append((time.perf_counter() - started) * 1000.0)
    duck = {int(owner): Decimal(total).quantize(Decimal("0.01")) for owner, total in rows}
    with open(os.path.join(directory, "pipewise_totals.csv")) as file:
        ours = {int(row["owner"]): Decimal(row["total"]) for row in csv.DictReader(file)}
    wrong = []
    for owner, total in ours.items():
        expected = duck.get(owner, Decimal("0.00"))
        if total != expected:
            wrong.append(f"rep {owner}: Pipewise {total}, DuckDB {expected}")
    wrong.extend(f"rep {owner}: DuckDB {total}, no Pipewise statement" for owner, total in duck.items() if owner not in ours)
    if wrong:
        print(f"{len(wrong)} totals differ:", *wrong[:20], sep="\n  ")
        return 1
    with open(os.path.join(directory, "pipewise_timings.json")) as file:
        pipewise = json.load(file)
    total = sum(ours.values())
    print(f"\nDuckDB {duckdb.__version__}: CSV load {load:.2f} s, 2 threads; {len(ours)} statements, every total equal "
          f"(sum {total:,}); {sum(1 for _ in duck)} reps with won deals")
    print("figure | Pipewise ms | DuckDB ms")
    print(f"all statements of the quarter (Pipewise stores each with its lines; DuckDB only sums) | {pipewise['all']:.1f} | "
          f"{statistics.median(times):.1f}")
    print(f"one rep's statement | {pipewise['one']:.2f} | —")
    print(f"attainment figures | {pipewise['attainment']:.2f} | —")
    return 0


if __name__ == "__main__":
    sys.exit(main())
