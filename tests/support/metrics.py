"""Reading a ``/metrics`` answer in tests: every sample by name and labels, parsed by
prometheus_client's own parser."""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client.parser import text_string_to_metric_families

# A sample's name and its labels, sorted: ("ivr_calls_started_total", (("direction", …), …)).
Key = tuple[str, tuple[tuple[str, str], ...]]


class Samples:
    """The samples of one scrape."""

    def __init__(self, text: str) -> None:
        self.values: dict[Key, float] = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                self.values[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value

    def get(self, name: str, **labels: str) -> float:
        """The value of one sample, 0 when the scrape has none such."""
        return self.values.get((name, tuple(sorted(labels.items()))), 0.0)

    def labelled(self, name: str) -> dict[tuple[tuple[str, str], ...], float]:
        """Every sample of ``name``, by its labels."""
        return {labels: value for (found, labels), value in self.values.items() if found == name}

    def total(self, name: str, **labels: str) -> float:
        """The sum of every sample of ``name`` whose labels include ``labels``."""
        wanted = set(labels.items())
        return sum(
            value
            for (found, found_labels), value in self.values.items()
            if found == name and wanted <= set(found_labels)
        )


def counted(before: Samples, after: Samples) -> Mapping[Key, float]:
    """How far each count moved between two scrapes: counters (``_total``) and histogram
    counts (``_count``) that changed, by how much, as ``{(name, labels): change}``."""
    keys = {key for key in set(before.values) | set(after.values) if _is_count(key[0])}
    changes = {key: after.values.get(key, 0.0) - before.values.get(key, 0.0) for key in keys}
    return {key: change for key, change in changes.items() if change}


def _is_count(name: str) -> bool:
    return name.endswith(("_total", "_count"))


def key(name: str, **labels: str) -> Key:
    """The key of a sample, as ``counted`` names it."""
    return (name, tuple(sorted(labels.items())))
