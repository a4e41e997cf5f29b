"""Text that a step returns to be read by people: the dashboard shows it, not just stores it.

``return MarkdownString("# Report\\n…")`` stores the text and a Markdown visualization;
``HTMLString`` an HTML page, which the dashboard shows in a sandboxed frame (no scripts).
Both are ``str``: load them back and use them as text.
"""

from __future__ import annotations

__all__ = ["HTMLString", "MarkdownString"]


class MarkdownString(str):
    """Markdown text, shown as a document beside the artifact."""


class HTMLString(str):
    """An HTML page, shown sandboxed beside the artifact (scripts do not run)."""
