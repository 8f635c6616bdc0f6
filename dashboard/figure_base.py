"""What every figure shares, public for every figure module: the template and title layout, the
empty chart that says why in words, log ticks, short titles and the genres' fixed colours."""
from __future__ import annotations

import textwrap

import numpy as np
import plotly.express as px
import plotly.graph_objects as go

TEMPLATE = "plotly_white"


def layout(fig: go.Figure, title: str, height: int = 380) -> go.Figure:
    fig.update_layout(title=title, template=TEMPLATE, height=height, margin=dict(l=40, r=20, t=50, b=40))
    return fig


#: characters per line of an empty chart's message: Plotly never wraps an annotation, and a chart
#: in half the page is about 50 characters of 15 px text wide
EMPTY_MESSAGE_WIDTH = 44


def empty_figure(title: str, message: str, height: int = 380) -> go.Figure:
    """A chart with nothing to draw says so in words, without axes, wrapped to fit half a page."""
    fig = go.Figure()
    fig.add_annotation(text="<br>".join(textwrap.wrap(message, EMPTY_MESSAGE_WIDTH)), x=0.5, y=0.5, xref="paper",
                       yref="paper", showarrow=False, font=dict(size=15, color="#555"))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return layout(fig, title, height=height)


def log_ticks(high: float) -> list[int]:
    """1, 10, 100, ... up to `high`: readable ticks for a log axis (Plotly's own repeat 2 and 5)."""
    return [10 ** p for p in range(0, int(np.floor(np.log10(max(high, 1)))) + 1)]


def short_titles(titles, width: int = 30) -> list[str]:
    """Titles cut at a word to about `width` characters with an ellipsis, kept distinct (a chart's
    categories merge equal labels); the full title belongs in the hover."""
    shown: list[str] = []
    for title in map(str, titles):
        short = title if len(title) <= width else title[:width].rsplit(" ", 1)[0].rstrip(",:;-") + "…"
        while short in shown:
            short += "\u200b"  # an invisible mark keeps two equal cuts apart
        shown.append(short)
    return shown


#: 24 + 24 distinct colours: every MovieLens genre (20 in ml-25m, and "(none)") gets its own
GENRE_PALETTE = tuple(px.colors.qualitative.Dark24) + tuple(px.colors.qualitative.Light24)


#: MovieLens' genres in colours of high contrast (mostly Kelly's), the big genres in the strongest ones,
#: so that no two genres on one map read alike (Comedy, Musical and Mystery were three pinks; Horror and
#: Film-Noir two dark greys, Musical a third crimson beside Action and Romance, Sci-Fi too pale on white)
MOVIELENS_GENRE_COLOURS = {
    "Drama": "#0067A5", "Comedy": "#F6A600", "Action": "#BE0032", "Thriller": "#875692", "Adventure": "#008856",
    "Romance": "#E68FAC", "Sci-Fi": "#3C9BE0", "Crime": "#5C3A1E", "Fantasy": "#00A6A6", "Children": "#DCD300",
    "Horror": "#2B3D26", "Mystery": "#848482", "Animation": "#E25822", "War": "#C2B280", "Musical": "#E040C8",
    "Western": "#A0785A", "Documentary": "#8DB600", "Film-Noir": "#882D17", "IMAX": "#7B68EE",
    "(none)": "#D0D0D0"}


def genre_colours(genres: list[str]) -> dict[str, str]:
    """A distinct colour for each genre: MovieLens' own have fixed colours (the same on every map),
    any other genre the next unused colour of Dark24/Light24, in sorted order."""
    names = sorted(set(genres))
    colours = {name: MOVIELENS_GENRE_COLOURS[name] for name in names if name in MOVIELENS_GENRE_COLOURS}
    spare = [c for c in GENRE_PALETTE if c not in colours.values()]
    others = [name for name in names if name not in colours]
    if len(others) > len(spare):
        raise ValueError(f"{len(names)} genres, only {len(GENRE_PALETTE)} distinct colours")
    colours.update(zip(others, spare))
    return colours


