"""Lessons as handouts: one standalone HTML file (text, tables and interactive figures) that opens
in any browser with no server and no network: Plotly's JavaScript is written into the file once."""
from __future__ import annotations

import html
from datetime import date

import pandas as pd

from dashboard.lesson_views import Lesson

STYLE = """body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;
color:#222;line-height:1.5}h1{font-size:1.7em}h2{margin-top:2em;border-top:1px solid #ddd;padding-top:1em}
.notice{background:#eef5fb;border-left:4px solid #4292c6;padding:.6em 1em}table{border-collapse:collapse;margin:.5em 0 1em}
td,th{border:1px solid #ddd;padding:.25em .6em;text-align:left;font-size:.92em}th{background:#f4f4f4}
.meta{color:#666;font-size:.9em}"""


def _table(caption: str, frame: pd.DataFrame) -> str:
    return f"<h3>{html.escape(caption)}</h3>" + frame.to_html(index=False, escape=True, border=0, na_rep="")


def handout_html(lessons: list[Lesson], heading: str, source: str) -> str:
    """One HTML document with every lesson in `lessons`, in order; `source` says the data and model."""
    if not lessons:
        raise ValueError("a handout needs at least one lesson")
    parts, plotly_written = [], False
    for lesson in lessons:
        parts.append(f"<h2>{html.escape(lesson.title)}</h2><p>{html.escape(lesson.text)}</p>")
        for figure in lesson.figures:
            parts.append(figure.to_html(full_html=False, include_plotlyjs=not plotly_written,
                                        config={"displaylogo": False}))
            plotly_written = True
        parts.extend(_table(caption, frame) for caption, frame in lesson.tables)
        parts.append(f"<p class='notice'><b>What to notice.</b> {html.escape(lesson.notice)}</p>")
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>{html.escape(heading)}</title><style>{STYLE}</style></head><body>"
            f"<h1>{html.escape(heading)}</h1><p class='meta'>{html.escape(source)} · made {date.today():%d %B %Y} "
            "with Latent Factor Explorer</p>" + "".join(parts) + "</body></html>")
