"""Problems found in flow files, reported as ``path:line: message``."""

from __future__ import annotations

from dataclasses import dataclass

from ivr.errors import IvrError


@dataclass(frozen=True, order=True)
class Problem:
    """One mistake in a flow or prompt file, at a line an admin can jump to."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class FlowError(IvrError):
    """Flows that cannot be used; carries every problem found, in file and line order."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(set(problems))
        super().__init__("\n".join(str(p) for p in self.problems))
