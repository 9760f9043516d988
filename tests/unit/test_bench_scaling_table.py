"""bench/scaling.py reads its table off a timeline: gaps, waits, duplicates and losses."""

from bench.scaling import rows


def test_rows_read_gaps_waits_duplicates_and_losses() -> None:
    t0 = 1000.0
    run = {
        "mode": "static",
        "events": {"steady": t0, "scale-out": t0 + 10, "scale-in": t0 + 20, "restart": t0 + 30,
                   "end": t0 + 40},
        # a page a second; "c" arrives twice after the scale-out, "lost" never
        "sent": {"a": t0 + 1, "b": t0 + 11, "c": t0 + 12, "d": t0 + 21, "e": t0 + 31,
                 "lost": t0 + 32},
        "records": [(t0 + 1.2, "a"), (t0 + 15.0, "b"), (t0 + 15.1, "c"), (t0 + 16.0, "c"),
                    (t0 + 21.3, "d"), (t0 + 38.0, "e")],
        "assigned": [t0 - 5, t0 + 14.5, t0 + 36.0],
        "started": [t0 - 6, t0 + 13.0, t0 + 35.0],  # models loaded, the join begins
    }  # fmt: skip
    table = {row[0]: row[1:] for row in rows(run)}
    steady, out, scale_in, restart = (
        table[f"static: {e}"] for e in ("steady", "scale-out", "scale-in", "restart")
    )
    # pages/s, longest gap, longest wait, median wait, assigned after the event and after
    # the new worker's join began, duplicates, missing
    assert steady == ["0.1", "8.8", "0.2", "0.20", "-", "-", "0", "0"]
    assert out[1:3] == ["5.0", "4.0"] and out[4:] == ["4.5", "1.5", "1", "0"]
    assert scale_in[1] == "8.7" and scale_in[4:] == ["-", "-", "0", "0"]
    assert restart[1:3] == ["8.0", "7.0"] and restart[4:] == ["6.0", "1.0", "0", "1"]
