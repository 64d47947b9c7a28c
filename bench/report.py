"""The bench's tables for a terminal (and, pasted, for Markdown)."""


def _ms(value) -> str:
    """Milliseconds as the tables show them: 4.9, 139, 3.82 s."""
    if value is None:
        return "-"
    if value >= 1000:
        return f"{value / 1000:.2f} s"
    if value >= 100:
        return f"{value:.0f}"
    return f"{value:.1f}"


def line(figures: dict) -> str:
    floor = figures.get("floor") or {}
    return (
        f"{figures['label'].strip()}: p50 {_ms(figures['p50_ms'])} ms, p95 {_ms(figures['p95_ms'])}, "
        f"{figures['queries']} queries; floor {_ms(floor.get('p50_ms'))}, ratio {figures.get('ratio', '-')}x "
        f"(n={figures['n']}, load {figures['load']['before'][0]})"
    )


def table(result: dict) -> str:
    meta, world = result["meta"], result["world"]
    sizes = world.get("sizes", {})
    counts = world.get("counts", {})
    lines = [
        "",
        f"## Parlor bench, scale {meta['scale']} ({meta['started']}, commit {meta['commit']})",
        "",
        f"World: {sizes.get('masseurs')} masseurs, {sizes.get('rooms')} rooms, {counts.get('clients')} clients, "
        f"{counts.get('appointments')} appointments, {counts.get('logs')} signed logs, "
        f"{counts.get('screenings')} screenings, {counts.get('reminders')} reminders; "
        f"generated in {world.get('total_seconds')} s (+ migrate {world.get('migrate_seconds')} s).",
        f"Machine: {meta['cpus']} cores, load average {meta['load_at_start'][0]} at start, "
        f"{meta.get('load_at_end', ['?'])[0]} at end; PostgreSQL {meta.get('postgresql')}, Python {meta['python']}.",
        "",
        "| operation | p50 ms | p95 ms | p99 ms | n | queries | floor p50 ms | ratio | issue: now | target |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for op in result["operations"]:
        floor = op.get("floor") or {}
        floor_text = f"{_ms(floor.get('p50_ms'))} ({floor.get('label')}, {floor.get('queries')} q)" if floor else "-"
        lines.append(
            f"| {op['label'].strip()} | {_ms(op['p50_ms'])} | {_ms(op['p95_ms'])} | {_ms(op['p99_ms'])} | {op['n']} "
            f"| {op['queries']} | {floor_text} | {op.get('ratio', '-')}x | {_ms(op.get('issue_ms'))} "
            f"| {_ms(op.get('target_ms'))} |"
        )
    http = result.get("http") or {}
    if http.get("pages"):
        lines += [
            "",
            f"Through gunicorn ({http['workers']} sync workers), {http['users']} concurrent users, "
            f"{http['seconds_per_page']} s a page:",
            "",
            "| page | requests/s | p50 ms | p95 ms | p99 ms | requests | errors |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for page in http["pages"]:
            lines.append(
                f"| {page['label']} | {page['rps']} | {_ms(page['p50_ms'])} | {_ms(page['p95_ms'])} "
                f"| {_ms(page['p99_ms'])} | {page['requests']} | {page['errors']} |"
            )
        peaks = [m.get("VmHWM", 0) for m in http.get("memory_mb", {}).values()]
        if peaks:
            lines.append(f"\nPeak RSS of a worker: {max(peaks)} MB (VmHWM; workers: {sorted(peaks)}).")
    cost = world.get("trigger_cost_us_per_row")
    if cost:
        figures = "; ".join(f"{k}: {v}" for k, v in cost.items())
        lines.append(f"\npghistory trigger on appointments, COPY, µs a row: {figures}")
    checks = world.get("checks") or {}
    if checks:
        lines.append(
            f"World checks: {checks['verdicts_checked']} verdicts ({len(checks['verdict_problems'])} wrong), "
            f"{checks['logs_checked']} logs ({len(checks['log_problems'])} wrong), overlaps {checks['overlaps']}, "
            f"constraints not validated {checks['not validated']}, triggers not enabled {checks['not enabled']}."
        )
    return "\n".join(lines)
