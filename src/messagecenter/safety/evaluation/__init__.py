"""The detector measured on its labelled evaluation set (docs/safety.md#evaluation):
precision and recall per category, and the three goals of the issue that asked for it."""

import json
from collections import Counter
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from messagecenter.safety.detector import Sender, check
from messagecenter.safety.vocabulary import CATEGORIES, CONTACT_CATEGORIES, Vocabulary

# The goals: share of impersonation attempts and of obfuscated contact details caught, and
# the most ordinary messages that may be flagged.
IMPERSONATION_GOAL = 0.99
OBFUSCATED_CONTACT_GOAL = 0.95
ORDINARY_FLAGGED_LIMIT = 0.01


@dataclass
class Evaluation:
    messages: int = 0
    true_positives: Counter[str] = field(default_factory=Counter)
    false_positives: Counter[str] = field(default_factory=Counter)
    false_negatives: Counter[str] = field(default_factory=Counter)
    group_sizes: Counter[str] = field(default_factory=Counter)
    group_caught: Counter[str] = field(default_factory=Counter)
    misses: list[dict[str, Any]] = field(default_factory=list)

    def precision(self, category: str) -> float | None:
        found = self.true_positives[category] + self.false_positives[category]
        return self.true_positives[category] / found if found else None

    def recall(self, category: str) -> float | None:
        expected = self.true_positives[category] + self.false_negatives[category]
        return self.true_positives[category] / expected if expected else None

    def rate(self, group: str) -> float:
        return self.group_caught[group] / self.group_sizes[group] if self.group_sizes[group] else 0

    @property
    def goals(self) -> list[tuple[str, float, str, bool]]:
        impersonation = self.rate("impersonation")
        contacts = self.rate("obfuscated_contact")
        ordinary = self.rate("ordinary")
        return [
            (
                "impersonation attempts caught",
                impersonation,
                "≥ 99 %",
                impersonation >= IMPERSONATION_GOAL,
            ),
            (
                "obfuscated contact details caught",
                contacts,
                "≥ 95 %",
                contacts >= OBFUSCATED_CONTACT_GOAL,
            ),
            ("ordinary messages flagged", ordinary, "≤ 1 %", ordinary <= ORDINARY_FLAGGED_LIMIT),
        ]

    def as_text(self) -> str:
        lines = [
            f"{self.messages} messages: "
            + ", ".join(f"{group} {size}" for group, size in sorted(self.group_sizes.items())),
            "",
            "| category | expected | found | precision | recall |",
            "|---|---:|---:|---:|---:|",
        ]
        for category in CATEGORIES:
            expected = self.true_positives[category] + self.false_negatives[category]
            found = self.true_positives[category] + self.false_positives[category]
            lines.append(
                f"| {category} | {expected} | {found} | {_percent(self.precision(category))} "
                f"| {_percent(self.recall(category))} |"
            )
        lines += ["", "| goal | measured | target | met |", "|---|---:|---:|---|"]
        for group, (name, value, target, met) in zip(_GOAL_GROUPS, self.goals, strict=True):
            if not self.group_sizes[group]:
                # A batch without messages of that kind (the third has payment requests
                # and ordinary messages only) neither meets nor misses the goal.
                lines.append(f"| {name} | — | {target} | — |")
                continue
            lines.append(f"| {name} | {_percent(value)} | {target} | {'yes' if met else 'NO'} |")
        return "\n".join(lines)


# The group of messages each goal is measured on, in the order of Evaluation.goals.
_GOAL_GROUPS = ("impersonation", "obfuscated_contact", "ordinary")


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f} %"


def default_set() -> Path:
    return Path(str(resources.files("messagecenter.safety.evaluation") / "messages.jsonl"))


def load(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def evaluate(records: list[dict[str, Any]], vocabulary: Vocabulary) -> Evaluation:
    result = Evaluation()
    for record in records:
        sender = Sender(record["sender"]["display_name"], record["sender"]["role"])
        verdict = check(record["body"], sender, vocabulary, subject=record.get("subject", ""))
        expected = set(record["expected"])
        found = set(verdict.categories)
        result.messages += 1
        group = record["group"]
        result.group_sizes[group] += 1
        for category in found & expected:
            result.true_positives[category] += 1
        for category in found - expected:
            result.false_positives[category] += 1
        for category in expected - found:
            result.false_negatives[category] += 1
        if group == "ordinary":
            caught = verdict.level != "ok" or verdict.is_masked
        elif group.endswith("contact"):
            caught = bool(expected & found & set(CONTACT_CATEGORIES))
        else:
            caught = verdict.level != "ok"
        result.group_caught[group] += caught
        if caught == (group == "ordinary") or expected != found:
            result.misses.append(
                {
                    "id": record["id"],
                    "group": group,
                    "expected": sorted(expected),
                    "found": sorted(found),
                    "body": record["body"][:200],
                    "sender": record["sender"]["display_name"],
                }
            )
    return result
