"""What changed between two screenings of a client, finding by finding."""

from dataclasses import dataclass

from screening import rules
from screening.models import Screening

# How much worse a finding of each kind is; a local area is no news at all.
_KIND_WEIGHT = {rules.Kind.LOCAL: 0, rules.Kind.PRODUCT: 1, rules.Kind.RELATIVE: 2, rules.Kind.ABSOLUTE: 3}


@dataclass(frozen=True)
class ScreeningDiff:
    added: tuple[rules.FindingFacts, ...]
    removed: tuple[rules.FindingFacts, ...]
    changed: tuple[tuple[rules.FindingFacts, rules.FindingFacts], ...]  # (older, newer) of one code
    kind_worsened: bool  # the newer one's worst kind is worse than the older one's

    @property
    def has_changes(self) -> bool:
        return bool(self.added or self.removed or self.changed)

    @property
    def added_codes(self) -> set[str]:
        return {f.code for f in self.added}

    @property
    def changed_codes(self) -> set[str]:
        return {new.code for _old, new in self.changed}


def _facts(screening) -> rules.ScreeningFacts | None:
    if screening is None or isinstance(screening, rules.ScreeningFacts):
        return screening
    if isinstance(screening, Screening):
        from screening.selectors import screening_facts

        return screening_facts(screening)
    raise TypeError(f"not a screening: {screening!r}")


def _worst(findings) -> int:
    return max((_KIND_WEIGHT.get(rules.Kind(f.kind), 2) for f in findings), default=-1)


def compare(older, newer) -> ScreeningDiff:
    """Findings added, removed and changed (same code, other note or details) from older to newer.

    Each side is a Screening (findings prefetched), ScreeningFacts, or None for "no screening".
    """
    old, new = _facts(older), _facts(newer)
    old_by_code = {f.code: f for f in (old.findings if old else ())}
    new_by_code = {f.code: f for f in (new.findings if new else ())}
    added = tuple(f for code, f in new_by_code.items() if code not in old_by_code)
    removed = tuple(f for code, f in old_by_code.items() if code not in new_by_code)
    changed = tuple(
        (old_by_code[code], f)
        for code, f in new_by_code.items()
        if code in old_by_code
        and (old_by_code[code].note != f.note or dict(old_by_code[code].details) != dict(f.details))
    )
    return ScreeningDiff(
        added=added,
        removed=removed,
        changed=changed,
        kind_worsened=_worst(new_by_code.values()) > _worst(old_by_code.values()),
    )
