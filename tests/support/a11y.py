"""axe-core (the engine browsers' accessibility audits use) run in a page of the browser
tests: the serious and critical violations it finds, in words a failing test can show."""

from __future__ import annotations

from typing import Any

BLOCKING = {"serious", "critical"}


def blocking_violations(page: Any) -> list[str]:
    """One line per serious or critical violation on the page as it is now: the rule, its
    help text and the first offending elements."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    found = []
    for violation in results.response["violations"]:
        if violation.get("impact") not in BLOCKING:
            continue
        targets = [" ".join(map(str, node["target"])) for node in violation["nodes"][:3]]
        found.append(f"{violation['id']} ({violation['impact']}): {violation['help']} at {targets}")
    return found
