#!/usr/bin/env python3
"""The DuckDB side of `pipewise bench dashboard`.

Usage: duckdb_dashboard.py DIR RUNS

DIR holds what the Rust side exported: stages.csv, users.csv, deals.csv (the opportunity rows'
current state, amounts in reporting minor units converted at the rate of the day each was set,
and each deal's activity facts), events.csv (the typed history of owner, stage, amount, close
date and close time) and pipewise.json (the as-of day, the period, the window, the quota, the
health thresholds, the horizon, Pipewise's figures and its timings). The leaderboard lists the
reps with deals in play: open, or created or closed on or after the horizon (see
`DashboardQuery::play_horizon`).

Loading (not timed as a figure, like the projection's load): the CSV files become DuckDB
tables, and `deal_now` adds what the opportunity row does not hold but history does (the day
the deal entered its stage, the stage before, how often the close date was pushed), as the
projection's load does. Each figure is then one SQL query over those tables, run on 2 threads,
median of RUNS runs; the waterfall replays history to the start day in SQL. Every figure must
equal Pipewise's exactly, or the script says which and exits 1. It prints one table:
figure | Pipewise ms | DuckDB ms | ratio.
"""

import json
import os
import statistics
import sys
import time
from decimal import ROUND_HALF_EVEN, Decimal

import duckdb


def half_even_div(numerator: int, denominator: int) -> int:
    quotient, remainder = divmod(numerator, denominator)
    twice = 2 * remainder
    if twice > denominator or (twice == denominator and quotient % 2 == 1):
        return quotient + 1
    return quotient


def ratio_6dp(numerator: int, denominator: int):
    if denominator == 0:
        return None
    value = Decimal(half_even_div(numerator * 10**6, denominator)).scaleb(-6)
    return str(value.quantize(Decimal("0.000001"), rounding=ROUND_HALF_EVEN))


def main() -> int:
    directory, runs = sys.argv[1], int(sys.argv[2])
    with open(os.path.join(directory, "pipewise.json")) as handle:
        expected = json.load(handle)
    T = expected["as_of"]
    P1, P2 = expected["period"]
    W1, W2 = expected["window"]
    F, TO = expected["waterfall_span"]
    H = expected["horizon"]
    quota = expected["quota"]
    th = expected["thresholds"]

    con = duckdb.connect()
    con.execute("SET threads = 2")
    path = lambda name: os.path.join(directory, name).replace("'", "''")
    started = time.perf_counter()
    con.execute(f"""
        CREATE TABLE stages AS SELECT * FROM read_csv('{path("stages.csv")}', header = true, columns = {{
            'stage_id': 'BIGINT', 'pipeline_id': 'BIGINT', 'position': 'INTEGER', 'kind': 'VARCHAR',
            'counts': 'BOOLEAN', 'win_bp': 'BIGINT', 'rotting_days': 'INTEGER'}});
        CREATE TABLE users AS SELECT * FROM read_csv('{path("users.csv")}', header = true, columns = {{
            'user_id': 'BIGINT', 'team_id': 'BIGINT'}});
        CREATE TABLE deals AS SELECT * FROM read_csv('{path("deals.csv")}', header = true, columns = {{
            'opp_id': 'BIGINT', 'owner_id': 'BIGINT', 'stage_id': 'BIGINT', 'amount': 'BIGINT', 'close_day': 'INTEGER',
            'created_day': 'INTEGER', 'closed_day': 'INTEGER', 'last_activity_day': 'INTEGER', 'last_inbound_day': 'INTEGER',
            'touchpoints_30d': 'INTEGER', 'contacts_engaged': 'INTEGER', 'overdue_tasks': 'INTEGER', 'max_log_lag_days': 'INTEGER'}});
        CREATE TABLE events AS SELECT * FROM read_csv('{path("events.csv")}', header = true, columns = {{
            'opp_id': 'BIGINT', 'seq': 'BIGINT', 'day': 'INTEGER', 'field': 'VARCHAR', 'new_value': 'BIGINT', 'creation': 'BOOLEAN'}});
    """)
    csv_seconds = time.perf_counter() - started
    started = time.perf_counter()
    con.execute("""
        CREATE TABLE deal_now AS
        WITH stage_events AS (
            SELECT opp_id, seq, day, creation,
                   lag(new_value) OVER (PARTITION BY opp_id ORDER BY seq) AS old_stage
            FROM events WHERE field = 'stage'
        ), last_stage AS (
            SELECT opp_id, arg_max(day, seq) AS stage_entered_day,
                   arg_max(CASE WHEN creation THEN NULL ELSE old_stage END, seq) AS stage_before_raw,
                   arg_max(creation, seq) AS last_is_creation
            FROM stage_events GROUP BY opp_id
        ), close_events AS (
            SELECT opp_id, creation, new_value,
                   lag(new_value) OVER (PARTITION BY opp_id ORDER BY seq) AS old_value
            FROM events WHERE field = 'close_day'
        ), pushes AS (
            SELECT opp_id, count(*) FILTER (WHERE NOT creation AND old_value IS NOT NULL AND new_value IS NOT NULL
                                             AND new_value > old_value) AS push_count
            FROM close_events GROUP BY opp_id
        )
        SELECT d.*, s.kind, s.counts, s.win_bp, s.rotting_days, s.pipeline_id,
               ls.stage_entered_day,
               CASE WHEN ls.last_is_creation THEN NULL ELSE ls.stage_before_raw END AS stage_before,
               coalesce(p.push_count, 0) AS push_count,
               coalesce(d.amount, 0) AS amt
        FROM deals d JOIN stages s USING (stage_id)
        LEFT JOIN last_stage ls USING (opp_id)
        LEFT JOIN pushes p USING (opp_id)
    """)
    # Whether a closed deal is a real outcome: a loss from a non-counting stage is a drop.
    con.execute("""
        CREATE TABLE deal_view AS
        SELECT n.*, coalesce(b.counts, true) AS before_counts
        FROM deal_now n LEFT JOIN stages b ON b.stage_id = n.stage_before
    """)
    prepare_seconds = time.perf_counter() - started

    outcome_won = "(kind = 'won' AND counts)"
    outcome_lost = "(kind = 'lost' AND counts AND before_counts)"
    queries = {}
    queries["pipeline by stage"] = f"""
        SELECT s.stage_id, count(d.opp_id) AS n, coalesce(sum(d.amt), 0)::HUGEINT AS amount,
               coalesce(sum(d.amt::HUGEINT * s.win_bp), 0)::HUGEINT AS wsum
        FROM stages s LEFT JOIN deal_view d ON d.stage_id = s.stage_id AND d.created_day <= {T}
        WHERE s.kind = 'open' AND s.counts
        GROUP BY s.stage_id ORDER BY s.stage_id
    """
    queries["coverage"] = f"""
        SELECT coalesce(sum(amt) FILTER (WHERE kind = 'open' AND counts AND close_day BETWEEN {P1} AND {P2}), 0)::HUGEINT,
               count(*) FILTER (WHERE kind = 'open' AND counts AND close_day BETWEEN {P1} AND {P2}),
               coalesce(sum(amt) FILTER (WHERE {outcome_won} AND closed_day BETWEEN {P1} AND {P2}), 0)::HUGEINT
        FROM deal_view WHERE created_day <= {T}
    """
    outcomes_sql = f"""
        SELECT count(*) FILTER (WHERE {outcome_won}), count(*) FILTER (WHERE {outcome_lost}),
               coalesce(sum(amt) FILTER (WHERE {outcome_won}), 0)::HUGEINT,
               coalesce(sum(amt) FILTER (WHERE {outcome_lost}), 0)::HUGEINT,
               coalesce(sum(closed_day - created_day) FILTER (WHERE {outcome_won}), 0)::BIGINT,
               count(*) FILTER (WHERE kind IN ('won', 'lost') AND NOT ({outcome_won} OR {outcome_lost}))
        FROM deal_view WHERE created_day <= {T} AND closed_day BETWEEN {W1} AND {W2} AND kind IN ('won', 'lost')
    """
    queries["win rate, cycle, deal size"] = outcomes_sql
    queries["velocity"] = f"""
        WITH o AS ({outcomes_sql}),
             open_deals AS (SELECT count(*) AS n FROM deal_view WHERE created_day <= {T} AND kind = 'open' AND counts)
        SELECT open_deals.n, o.* FROM o, open_deals
    """
    end_state = "deal_view" if TO == T else None
    if end_state is None:
        raise SystemExit("the bench uses as_of within the period: the waterfall's end is the current state")
    queries["waterfall (quarter)"] = f"""
        WITH ev AS (SELECT * FROM events WHERE day <= {F}),
        s AS (
            SELECT opp_id,
                   arg_max_null(new_value, seq) FILTER (WHERE field = 'owner') AS owner_id,
                   arg_max_null(new_value, seq) FILTER (WHERE field = 'stage') AS stage_id,
                   arg_max_null(new_value, seq) FILTER (WHERE field = 'amount') AS amount,
                   arg_max_null(new_value, seq) FILTER (WHERE field = 'close_day') AS close_day
            FROM ev GROUP BY opp_id
        ),
        start AS (
            SELECT s.opp_id, coalesce(s.amount, 0) AS amt,
                   (st.kind = 'open' AND st.counts) AS open_counting,
                   coalesce(s.close_day BETWEEN {P1} AND {P2}, false) AS in_period
            FROM s JOIN stages st ON st.stage_id = s.stage_id
            WHERE s.owner_id IS NOT NULL
        ),
        j AS (
            SELECT e.amt AS e, coalesce(b.amt, 0) AS s, b.opp_id IS NOT NULL AS s_exists,
                   coalesce(b.open_counting AND b.in_period, false) AS in_s,
                   (e.kind = 'open' AND e.counts AND coalesce(e.close_day BETWEEN {P1} AND {P2}, false)) AS in_e,
                   coalesce(b.open_counting AND NOT b.in_period, false) AS was_open_elsewhere,
                   e.kind, e.counts, e.closed_day,
                   CASE WHEN {outcome_won.replace('kind', 'e.kind').replace('counts', 'e.counts')} THEN 1
                        WHEN (e.kind = 'lost' AND e.counts AND e.before_counts) THEN 0 END AS outcome
            FROM deal_view e LEFT JOIN start b ON b.opp_id = e.opp_id
            WHERE e.created_day <= {TO}
        ),
        c AS (
            SELECT *,
                   CASE WHEN in_s AND in_e THEN 'both' WHEN in_s THEN 'left' WHEN in_e THEN 'entered'
                        WHEN closed_day > {F} AND closed_day BETWEEN {P1} AND {P2} AND outcome IS NOT NULL THEN 'through'
                        ELSE 'none' END AS path
            FROM j
        )
        SELECT
            count(*) FILTER (WHERE path IN ('both', 'left')), coalesce(sum(s) FILTER (WHERE path IN ('both', 'left')), 0)::HUGEINT,
            count(*) FILTER (WHERE path IN ('entered', 'through') AND NOT was_open_elsewhere),
            coalesce(sum(e) FILTER (WHERE path IN ('entered', 'through') AND NOT was_open_elsewhere), 0)::HUGEINT,
            count(*) FILTER (WHERE path IN ('both', 'left') AND e > s), coalesce(sum(e - s) FILTER (WHERE path IN ('both', 'left') AND e > s), 0)::HUGEINT,
            count(*) FILTER (WHERE path IN ('both', 'left') AND e < s), coalesce(sum(e - s) FILTER (WHERE path IN ('both', 'left') AND e < s), 0)::HUGEINT,
            count(*) FILTER (WHERE path IN ('entered', 'through') AND was_open_elsewhere),
            coalesce(sum(e) FILTER (WHERE path IN ('entered', 'through') AND was_open_elsewhere), 0)::HUGEINT,
            count(*) FILTER (WHERE path = 'left' AND kind = 'open' AND counts),
            coalesce(sum(e) FILTER (WHERE path = 'left' AND kind = 'open' AND counts), 0)::HUGEINT,
            count(*) FILTER (WHERE (path = 'left' AND kind = 'won') OR (path = 'through' AND outcome = 1)),
            coalesce(sum(e) FILTER (WHERE (path = 'left' AND kind = 'won') OR (path = 'through' AND outcome = 1)), 0)::HUGEINT,
            count(*) FILTER (WHERE (path = 'left' AND kind = 'lost') OR (path = 'through' AND outcome = 0)),
            coalesce(sum(e) FILTER (WHERE (path = 'left' AND kind = 'lost') OR (path = 'through' AND outcome = 0)), 0)::HUGEINT,
            count(*) FILTER (WHERE path = 'left' AND kind = 'open' AND NOT counts),
            coalesce(sum(e) FILTER (WHERE path = 'left' AND kind = 'open' AND NOT counts), 0)::HUGEINT,
            count(*) FILTER (WHERE path IN ('both', 'entered')), coalesce(sum(e) FILTER (WHERE path IN ('both', 'entered')), 0)::HUGEINT
        FROM c
    """
    since = lambda column: f"(CASE WHEN {column} IS NULL THEN {T} - created_day ELSE greatest({T} - {column}, 0) END)"
    in_stage = f"({T} - stage_entered_day)"
    codes = [
        ("stale", f"rotting_days IS NOT NULL AND {in_stage} > rotting_days", False),
        ("untouched", f"{since('last_activity_day')} > {th['untouched_days']}", False),
        ("going_dark", f"{since('last_inbound_day')} > {th['going_dark_days']}", False),
        ("past_close_date", f"close_day IS NOT NULL AND close_day < {T}", False),
        ("close_date_pushed", f"push_count >= {th['pushed_min']}", True),
        ("overdue_tasks", "overdue_tasks > 0", False),
        ("single_threaded", f"contacts_engaged <= {th['single_threaded_max_contacts']}", True),
        ("no_amount", "amount IS NULL OR amount = 0", True),
        ("late_updates", f"max_log_lag_days > {th['late_update_days']}", False),
        ("moving", f"{in_stage} <= {th['moving_days']} AND stage_entered_day > created_day", True),
        ("well_touched", f"touchpoints_30d >= {th['touchpoints_healthy']}", True),
        ("multi_threaded", f"contacts_engaged >= {th['multi_threaded_min_contacts']}", True),
    ]
    condition = lambda sql, counting_only: f"(({sql}) AND counts)" if counting_only else f"({sql})"
    problems = " OR ".join(condition(sql, counting) for _, sql, counting in codes[:9])
    queries["health counts"] = f"""
        SELECT count(*) FILTER (WHERE counts),
               count(*) FILTER (WHERE {problems}),
               {", ".join(f"count(*) FILTER (WHERE {condition(sql, counting)})" for _, sql, counting in codes)}
        FROM deal_view WHERE created_day <= {T} AND kind = 'open'
    """
    queries["leaderboard"] = f"""
        SELECT owner_id,
               coalesce(sum(amt) FILTER (WHERE {outcome_won} AND closed_day BETWEEN {P1} AND {P2}), 0)::HUGEINT AS won_amount,
               count(*) FILTER (WHERE {outcome_won} AND closed_day BETWEEN {P1} AND {P2}) AS won_count,
               coalesce(sum(amt) FILTER (WHERE kind = 'open' AND counts), 0)::HUGEINT AS pipeline_amount,
               count(*) FILTER (WHERE kind = 'open' AND counts) AS open_deals,
               coalesce(sum(amt) FILTER (WHERE kind = 'open' AND counts AND close_day BETWEEN {P1} AND {P2}), 0)::HUGEINT AS closing,
               count(*) FILTER (WHERE {outcome_won} AND closed_day BETWEEN {W1} AND {W2}) AS w_won,
               count(*) FILTER (WHERE {outcome_lost} AND closed_day BETWEEN {W1} AND {W2}) AS w_lost,
               coalesce(sum(closed_day - created_day) FILTER (WHERE {outcome_won} AND closed_day BETWEEN {W1} AND {W2}), 0)::BIGINT AS w_cycle
        FROM deal_view WHERE created_day <= {T}
        GROUP BY owner_id
        HAVING count(*) FILTER (WHERE kind = 'open' OR closed_day >= {H} OR created_day >= {H}) > 0
        ORDER BY won_amount DESC, pipeline_amount DESC, owner_id
    """

    timings = {}
    results = {}
    for name, sql in queries.items():
        results[name] = con.execute(sql).fetchall()  # warm
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            con.execute(sql).fetchall()
            times.append((time.perf_counter() - started) * 1e3)
        timings[name] = statistics.median(times)

    # The same figures as the Rust side's JSON.
    got = {}
    lines = [[stage, n, str(amount), str(half_even_div(int(wsum), 10_000))] for stage, n, amount, wsum in results["pipeline by stage"]]
    got["pipeline"] = {
        "lines": lines,
        "count": sum(line[1] for line in lines),
        "amount": str(sum(int(line[2]) for line in lines)),
        "weighted": str(sum(int(line[3]) for line in lines)),
    }
    open_amount, open_deals, won_in_period = (int(value) for value in results["coverage"][0])
    remaining = max(quota - won_in_period, 0)
    got["coverage"] = {
        "open": str(open_amount), "open_deals": open_deals, "won": str(won_in_period), "remaining": str(remaining),
        "ratio_6dp": ratio_6dp(open_amount, remaining),
    }
    won, lost, won_amount, lost_amount, cycle, dropped = (int(value) for value in results["win rate, cycle, deal size"][0])
    got["outcomes"] = {
        "won": won, "lost": lost, "won_amount": str(won_amount), "lost_amount": str(lost_amount), "won_cycle_days": cycle,
        "dropped": dropped, "win_rate_6dp": ratio_6dp(won, won + lost), "average_cycle_6dp": ratio_6dp(cycle, won),
    }
    n_open, v_won, v_lost, v_won_amount, _, v_cycle, _ = (int(value) for value in results["velocity"][0])
    velocity = None
    if v_won + v_lost > 0 and v_won > 0 and v_cycle > 0:
        velocity = str(half_even_div(n_open * v_won_amount * v_won, (v_won + v_lost) * v_cycle))
    got["velocity_per_day"] = velocity
    w = [int(value) for value in results["waterfall (quarter)"][0]]
    names = ["start", "new", "increased", "decreased", "pulled_in", "pushed_out", "won", "lost", "removed", "end"]
    signs = {"pushed_out": -1, "won": -1, "lost": -1, "removed": -1}
    buckets = []
    for index, name in enumerate(names):
        count, amount = w[2 * index], w[2 * index + 1]
        sign = signs.get(name, 1)
        buckets.append([name, sign * count, str(sign * amount)])
    got["waterfall"] = buckets
    health = results["health counts"][0]
    got["health"] = {
        "open_deals": health[0], "flagged_deals": health[1],
        "deal_counts": [[name, count] for (name, _, _), count in zip(codes, health[2:])],
    }
    got["leaderboard"] = [
        [owner, str(won_amount), won_count, str(pipeline), open_n, str(closing), w_won, w_lost, w_cycle]
        for owner, won_amount, won_count, pipeline, open_n, closing, w_won, w_lost, w_cycle in results["leaderboard"]
    ]

    want = expected["figures"]
    want["pipeline"]["lines"].sort()
    got["pipeline"]["lines"].sort()
    mismatches = []
    for key in want:
        if want[key] != got.get(key):
            mismatches.append(key)
    print(f"\nDuckDB {duckdb.__version__}: CSV load {csv_seconds:.2f} s, derived state (deal_now) {prepare_seconds:.2f} s, 2 threads")
    if mismatches:
        for key in mismatches:
            print(f"MISMATCH in {key}:\n  Pipewise: {json.dumps(want[key])[:2000]}\n  DuckDB:   {json.dumps(got.get(key))[:2000]}", file=sys.stderr)
        print(f"FAILED: {len(mismatches)} figure(s) differ: {', '.join(mismatches)}", file=sys.stderr)
        return 1
    print(f"identical numbers: {', '.join(want.keys())} ({expected['deals']} deals)\n")
    pipewise = dict(expected["timings_ms"])
    rows = [(name, pipewise[name], timings[name]) for name in queries]
    total_duck = sum(timings.values())
    print(f"{'figure':<28} | {'Pipewise ms':>11} | {'DuckDB ms':>9} | {'ratio':>6}")
    print(f"{'-' * 28}-+-{'-' * 11}-+-{'-' * 9}-+-{'-' * 6}")
    for name, ours, theirs in rows:
        print(f"{name:<28} | {ours:>11.2f} | {theirs:>9.2f} | {theirs / ours:>5.1f}x")
    for name, ours in pipewise.items():
        if name not in queries and name != "DASHBOARD (one call)":
            print(f"{name:<28} | {ours:>11.2f} | {'-':>9} | {'-':>6}   (Pipewise only: no SQL counterpart here)")
    whole = pipewise["DASHBOARD (one call)"]
    print(f"{'dashboard (all figures)':<28} | {whole:>11.2f} | {total_duck:>9.2f} | {total_duck / whole:>5.1f}x")
    print("\n(ratio = DuckDB ms / Pipewise ms; Pipewise's dashboard is one call computing every figure in one pass,"
          " DuckDB's is the sum of its queries; medians of", runs, "runs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
