"""detect-secrets plugins for the provider token formats detect-secrets 1.5 does not know.

The formats are data in ``core/token_formats.py`` (the masking step every output goes
through uses the same data); here each one becomes a ``RegexBasedDetector`` (detect-secrets'
own plugin API): its ``secret_type`` names the token's family, its ``denylist`` is the
format's expressions. Every match then passes the format's validity check, if it has one, and
:func:`is_placeholder_token`: a real prefix followed by ``xxxx``, ``EXAMPLE`` or
``YOUR_TOKEN_HERE`` is documentation, not a credential.

The classes work inside detect-secrets too (a baseline's ``plugins_used`` entry with
``path: file://.../plugins.py``); gitops-guard's engine adds them to detect-secrets'
own plugins.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from detect_secrets.plugins.base import RegexBasedDetector

from gitops_guard.checks.secrets.embedded import is_placeholder_token
from gitops_guard.core.token_formats import FORMATS, TokenFormat, compiled

__all__ = ["is_placeholder_token", "plugin_classes"]


class _Denylist:
    """A plugin's compiled ``denylist``, compiled on the first scan that needs it (sixty
    plugins' expressions cost ~20 ms to compile; a commit of one file needs few of them)."""

    __isabstractmethod__ = False

    def __get__(self, obj: Any, owner: type) -> Any:
        if obj is None:
            return self
        return compiled(owner.format)  # type: ignore[attr-defined]


class ProviderTokenDetector(RegexBasedDetector):
    """A provider token format; matches that are placeholders are dropped. (No
    ``secret_type`` here: detect-secrets skips this abstract base.)"""

    #: the format this plugin runs (core/token_formats.py)
    format: TokenFormat
    #: text without one of these cannot hold the token: the regexes are not even run
    keywords: tuple[str, ...] = ()
    denylist = _Denylist()

    def present(self, string: str) -> bool:
        return any(k in string for k in self.keywords)

    def analyze_string(self, string: str) -> Iterator[str]:
        if not self.present(string):
            return
        require = self.format.require
        for match in super().analyze_string(string):
            if is_placeholder_token(match):
                continue
            if require is not None and not require(match):
                continue
            yield match


def _plugin(fmt: TokenFormat) -> type[ProviderTokenDetector]:
    namespace = {
        "__module__": __name__,
        "__qualname__": fmt.name,
        "__doc__": fmt.doc or f"{fmt.family}s.",
        "secret_type": fmt.family,
        "keywords": fmt.keywords,
        "format": fmt,
    }
    return type(fmt.name, (ProviderTokenDetector,), namespace)


_CLASSES = [_plugin(fmt) for fmt in FORMATS]
globals().update({cls.__name__: cls for cls in _CLASSES})


def plugin_classes() -> list[type[ProviderTokenDetector]]:
    """Every detector of this module, in the order of the formats."""
    return list(_CLASSES)
