"""Each lesson as its words, figure and table for one setting of its control: pure functions of
the data and the trained models, shared by the Lessons page and its handouts (no Streamlit)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard import lesson_figures as lf
from recsys.data.dataset import Dataset, Ratings
from recsys.explain import lessons
from recsys.explain.explore import item_map

#: the lessons in teaching order: key -> title
TITLES = {"you": "1. You in the matrix", "alternate": "2. Two steps, then alternate",
          "directions": "3. What a direction means", "biases-first": "4. Biases first", "regularisation": "5. Regularisation",
          "similarity": "6. Dot product or cosine", "cold": "7. Cold start"}
#: the penalties lesson 5 can compare with none (the als model's default first)
PENALTIES = (0.1, 0.01, 1.0)
UNREGULARISED = {"reg": 0.0, "prior": 0.0}


@dataclass(frozen=True)
class Lesson:
    """One lesson as shown: a few sentences, figures, tables (caption, frame) and what to notice."""

    key: str
    text: str
    notice: str
    figures: tuple[go.Figure, ...] = ()
    tables: tuple[tuple[str, pd.DataFrame], ...] = field(default=())

    @property
    def title(self) -> str:
        return TITLES[self.key]


def you(dataset: Dataset, model, items: np.ndarray, ratings: np.ndarray | None) -> Lesson:
    """Lesson 1 for these ratings (None: not rated yet, the crowd alone)."""
    text = (f"Every person in {dataset.name} is a vector, and so is every movie; a predicted rating is the mean plus "
            "two biases plus the dot product of the two vectors. Rate the movies below: your vector is solved from "
            "your ratings with the movies held fixed (one half step of ALS, no retraining), so you land on the "
            "same map as everyone else.")
    notice = ("People who rate alike land close together; rate the first few movies the other way round and watch "
              "your star cross the map, and your top-10 change with it.")
    if ratings is None or not len(ratings):
        people = lessons.place_you(dataset, model, items[:1], np.array([dataset.ratings.values.mean()])).people
        figure = lf.you_map(people, (np.nan, np.nan))
        return Lesson("you", text, notice, (figure,))
    placed = lessons.place_you(dataset, model, items, ratings)
    top = placed.top.assign(predicted=placed.top["predicted"].round(2))
    return Lesson("you", text, notice, (lf.you_map(placed.people, placed.you),),
                  ((f"Your top-10 (your bias: {placed.bias:+.2f} stars against the mean person)", top),))


def alternate(dataset: Dataset, model, on_mini: bool) -> Lesson:
    """Lesson 2 on the mini 4 x 5 example or on the dataset."""
    table = lessons.mini_alternation() if on_mini else lessons.alternation_table(model.half_steps)
    where = "the 4 x 5 romance/sci-fi example" if on_mini else f"{dataset.name} (its training and validation parts)"
    text = ("If we knew each movie's vector (how much romance, how much action), each person's taste would be a "
            "regression on the movies they rated; and if we knew the people, each movie would be a regression on "
            "the people who rated it. Alternating least squares does exactly that: fix the movies and solve the "
            "people, then fix the people and solve the movies, again and again.")
    notice = ("Each half step solves its side exactly, so what ALS minimises (dotted: squared error plus the "
              "penalty) falls at every half step, fastest in the first ones. The plain training RMSE can tick up on a "
              "half step that trades a little fit for shorter vectors; on real data the validation error levels off "
              "above the training error.")
    shown = table.drop(columns="half_step").round(4).rename(columns={
        "solved": "side just solved", "train_rmse": "training RMSE", "valid_rmse": "validation RMSE",
        "objective": "√ penalised loss"})
    if on_mini:
        shown = shown.drop(columns="validation RMSE")
    return Lesson("alternate", text, notice, (lf.alternation_figure(table, f"Error after each half step on {where}"),),
                  (("Each half step", shown),))


def directions(dataset: Dataset, found: lessons.Directions, direction: int, position: float) -> Lesson:
    """Lesson 3: one direction named by its ends, and a point slid along it."""
    other = 2 if direction == 1 else 1
    nearest = lessons.walk(found, direction, position)
    share = found.explained[direction - 1]
    text = ("The factors have no names: the model only learns that some movies are rated alike. The main "
            "directions of the movie vectors (a PCA) are the axes along which movies differ most; the movies at "
            f"the two ends of a direction tell you what it means. Direction {direction} holds {share:.0%} of the "
            "vectors' spread.")
    notice = ("Read the two ends as a contrast (say, acclaimed dramas against broad blockbusters), then slide the "
              "point and see the titles it passes change from one kind to the other.")
    return Lesson("directions", text, notice, (lf.direction_figure(found.points, direction, other, position, nearest),),
                  ((f"The movies at each end of direction {direction}", lessons.direction_ends(found, direction)),
                   ("Nearest the point", nearest.round(3))))


def biases(dataset: Dataset, train: Ratings, test: Ratings, model, min_count: int) -> Lesson:
    """Lesson 4: the ladder of error from the mean to the factors, and the biases' extremes."""
    ladder = lessons.bias_ladder(train, test, model)
    text = ("Before any factor: some movies are rated higher than others by everyone (a movie bias) and some "
            "people rate everything higher (a user bias). The bars add one part at a time to the same split's "
            "test error: the mean alone, then movie biases, then user biases, then the factors. The biases "
            "here are damped averages taken in one pass, movies first; the `biases` model on Compare models "
            "fits both kinds together (alternating least squares), so its error there is a little lower.")
    notice = (f"The biases alone take most of the way ({ladder['rmse'].iloc[0]:.3f} → {ladder['rmse'].iloc[2]:.3f}); "
              f"the factors add the rest ({ladder['rmse'].iloc[3]:.3f}). A movie's bias says how it is rated "
              "against what its audience usually gives.")
    return Lesson("biases-first", text, notice, (lf.ladder_figure(ladder),),
                  ((f"Rated most above and below the mean (at least {min_count} ratings)",
                    lessons.bias_extremes(dataset, train, min_count)),))


def regularisation(dataset: Dataset, without, with_penalty, penalty: float) -> Lesson:
    """Lesson 5: the same model without and with its penalty."""
    labels = ("without a penalty", f"with penalty {penalty:g}")
    curves = lessons.curves({labels[0]: without, labels[1]: with_penalty})
    maps = {label: item_map(dataset, model, "pca", min_count=20) for label, model in zip(labels, (without, with_penalty))}
    last = curves[curves["part"] == "validation"].groupby("model", sort=False)["rmse"].last()
    text = ("A factor model has far more numbers than the data can pin down: a person with 20 ratings and 16 "
            "factors leaves the fit free to copy their ratings exactly. The penalty (regularisation) charges "
            "for long vectors, so only patterns many ratings agree on survive.")
    notice = (f"Without a penalty the training error keeps falling while the validation error ends at "
              f"{last.iloc[0]:.3f}, worse than with it ({last.iloc[1]:.3f}): over-fitting. The unpenalised map is "
              "stretched by a few movies with few ratings.")
    return Lesson("regularisation", text, notice, (lf.curves_figure(curves), lf.twin_maps(maps)))


def similarity(dataset: Dataset, model, item: int) -> Lesson:
    """Lesson 6: a movie's neighbours by dot product and by cosine, and length against popularity."""
    table = lessons.neighbours_both_ways(dataset, model, item)
    frame, rho = lessons.length_and_popularity(dataset, model)
    text = ("Two movies are similar when their vectors point the same way (cosine) or when their dot product is "
            "large. The dot product also grows with a vector's length, and a movie's vector grows with how many "
            "ratings pushed on it.")
    by_dot, by_cosine = table["its ratings (dot)"].median(), table["its ratings (cosine)"].median()
    verdict = ("as expected, the dot product's list is the more rated" if by_dot > by_cosine else
               "here it is the other way round" if by_dot < by_cosine else "here the two lists are rated alike")
    notice = (f"Vector length and popularity rise together (Spearman {rho:.2f}), so the dot product favours long, "
              f"popular vectors. The dot product's ten have a median of {by_dot:.0f} ratings, cosine's ten "
              f"{by_cosine:.0f}: {verdict}. Try a less-rated movie and compare the two lists again.")
    return Lesson("similarity", text, notice, (lf.length_figure(frame, rho),),
                  ((f"Nearest to {dataset.titles([item])[0]}", table),))


def cold(found: lessons.ColdStart, size: int) -> Lesson:
    """Lesson 7: the error after 1, 3 and 10 ratings, and one person's top-10 after `size`."""
    errors = found.errors
    text = (f"A new person has no vector. We take {errors['users'].iloc[0]} people, forget all but their first 1, "
            "3 or 10 ratings (by date), rebuild their vector from those, and predict their test ratings "
            f"({errors['test ratings'].iloc[0]:,}). With none, the movie biases alone answer. The movie vectors "
            "were learned with these people in: this isolates what a person's own ratings add.")
    rmse = dict(zip(errors["ratings known"], errors["rmse"]))
    closed = (rmse["0"] - rmse[str(max(lessons.COLD_SIZES))]) / max(rmse["0"] - rmse["all"], 1e-12)
    notice = (f"One rating barely moves the error ({rmse['0']:.3f} → {rmse['1']:.3f}: the penalty keeps a vector "
              f"built on little short); {max(lessons.COLD_SIZES)} ratings close {closed:.0%} of the gap between the "
              f"biases alone and the vector trained on everything they rated ({rmse['all']:.3f}).")
    example = found.example[found.example["ratings known"] == size][["rank", "title"]]
    return Lesson("cold", text, notice, (lf.cold_start_figure(errors),),
                  ((f"One person's top-10 after {size} rating(s)", example.reset_index(drop=True)),))
