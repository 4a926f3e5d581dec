"""Markdown and HTML pieces shared by the reports (episode reports, benchmark reports). HTML is always escaped."""

from __future__ import annotations

import html

CSS = """body { font-family: sans-serif; margin: 2em; max-width: 80em; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.5em; text-align: left; vertical-align: top; }
th { background: #eee; }
pre { white-space: pre-wrap; background: #f6f6f6; padding: 0.5em; }
.intro { white-space: pre-wrap; }
figure { display: inline-block; margin: 0.5em; }
img { max-width: 24em; }"""


def one_line(text: str) -> str:
    return " ".join(text.split())


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def md_alt(text: str) -> str:
    return one_line(text).replace("[", "(").replace("]", ")")  # brackets would end the alt text early


def md_table(header: list[str], rows: list[list[str]]) -> str:
    def line(values: list[str]) -> str:
        return "| " + " | ".join(one_line(value).replace("|", "\\|") for value in values) + " |"

    return "\n".join([line(header), "|" + "---|" * len(header)] + [line(row) for row in rows])


def html_table(header: list[str], rows: list[list[str]]) -> str:
    head = "<tr>" + "".join(f"<th>{html.escape(value)}</th>" for value in header) + "</tr>"
    body = "".join("<tr>" + "".join(f"<td>{html.escape(value)}</td>" for value in row) + "</tr>" for row in rows)
    return f"<table>{head}{body}</table>"


def html_figure(path: str, caption: str) -> str:
    """An image with its caption; `path` is relative to the page and URL-quoted."""
    caption = html.escape(caption)
    return f'<figure><img src="{html.escape(path)}" alt="{caption}"><figcaption>{caption}</figcaption></figure>'
