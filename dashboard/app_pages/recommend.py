"""A user's favourites next to their top-10, with reasons, a genre profile, and "rate a few
movies yourself" (folded into the trained factors, no retraining)."""
import numpy as np
import streamlit as st

from dashboard import datasets, links, map_figures, services, state
from dashboard.tables import readable
from recsys.data import stats
from recsys.errors import RecsysError
from recsys.explain import explore, recommend
from recsys.work.catalog import DEFAULT_RANKING_MODEL, DEFAULT_RATING_MODEL, all_labels

#: the top-10 table: the title, its number and why it is there first, so all three show without
#: scrolling sideways in the page's right-hand column (about 560 px in a 1400 px window)
TOP_TEN_COLUMNS = {"title": st.column_config.TextColumn("title", width=200),
                   "predicted rating": st.column_config.NumberColumn("predicted", width=70, format="%.2f"),
                   "preference score": st.column_config.NumberColumn("score", width=60, format="%.3f"),
                   recommend.RANKS_BY: st.column_config.NumberColumn(
                       "ranked by", width=75, format="%.3f",
                       help="the model's own score: predictions above the top of the scale show as the top "
                            "star, and are ranked by this"),
                   "reason": st.column_config.TextColumn("because you liked", width=280,
                                                         help="the liked movies nearest to it in the model"),
                   "genres": st.column_config.TextColumn("genres", width=110)}
BECAUSE = "because you liked "


def top_ten_columns(table):
    """title, its number, reason, genres: what a person reads first, first (the reason without
    the words its column header already says; "ranked by" only where it differs from the number)."""
    first = [c for c in TOP_TEN_COLUMNS if c in table]
    table = table[first + [c for c in table if c not in first and c != "item"]]
    if "reason" in table:
        table = table.assign(reason=table["reason"].fillna("").astype(str).str.removeprefix(BECAUSE))
    return table


def future_check(dataset, model, split, user: int, user_id) -> None:
    """Which of a top-10 made from the training part the user went on to rate (test part)."""
    check = recommend.against_the_future(model, dataset, split, user)
    if check is None:
        st.caption("This model learned from every rating, so there is nothing later to check its top-10 against. "
                   "Under “Model trained on”, pick the time or temporal split to see which of a model's "
                   "recommendations the user went on to rate.")
        return
    when = "later" if split.kind in ("time", "temporal") else "in the held-out part"
    st.subheader(f"Checked against what user {user_id} rated {when}")
    if check.later == 0:
        others = ", ".join(str(u) for u in recommend.users_who_rated_later(dataset, split))
        st.info(f"User {user_id} rated nothing {when}, so there is nothing to check this top-10 against. "
                f"Users who rated the most {when}: {others}.")
        return
    left, right, rest = st.columns([1, 1, 3])
    left.metric("Hits in the top-10", f"{check.hits} of {len(check.table)}")
    right.metric("NDCG@10", "n/a" if np.isnan(check.ndcg) else f"{check.ndcg:.3f}",
                 help=f"relevant: the {check.relevant} test ratings of at least 4; binary relevance, log2 discount")
    rest.caption(check.note + " This list leaves out only the movies the user rated in training, so it can differ "
                 "from the one above, which leaves out everything they rated.")
    st.dataframe(readable(check.table.drop(columns="item"), {"their rating": 1}), hide_index=True,
                 column_config={"rated later": st.column_config.CheckboxColumn(when)})


def pick_user(dataset, column, random: bool):
    """The user: a drop-down on small sets, a typed id on big ones; "Random user" picks one."""
    listed = dataset.n_users <= services.USER_LIST_MAX  # a drop-down of 162k users is slow to draw: type an id instead
    if random:
        pick = dataset.user_ids[np.random.default_rng().integers(dataset.n_users)]
        state.choose("user" if listed else "user_id_text", pick if listed else str(pick))
    if listed:
        users = list(dataset.user_ids)
        return column.selectbox("User", users, key=state.persistent("user", users[0]),
                                on_change=state.keep, args=("user",))
    typed = column.text_input(f"User id ({dataset.n_users:,} users, ids {dataset.user_ids[0]}-{dataset.user_ids[-1]})",
                              key=state.persistent("user_id_text", str(dataset.user_ids[0])),
                              on_change=state.keep, args=("user_id_text",))
    try:
        return dataset.user_ids[dataset.user_index(typed)]
    except RecsysError as error:
        st.error(str(error))
        st.stop()


def link_user(dataset, typed: str) -> None:
    """A linked user id, into the picker this dataset's size uses (an unknown id is ignored)."""
    try:
        index = dataset.user_index(typed)
    except RecsysError:
        return
    state.choose("user", dataset.user_ids[index])
    state.choose("user_id_text", str(dataset.user_ids[index]))


def model_choices() -> list[str]:
    """The ranking default first, then the rating default, then every other preset."""
    return [DEFAULT_RANKING_MODEL, DEFAULT_RATING_MODEL] + [m for m in all_labels()
                                                            if m not in (DEFAULT_RANKING_MODEL, DEFAULT_RATING_MODEL)]


def pick_model(dataset, column):
    """The model (the ranking default first, then the rating default) and the split it learned from."""
    labels = model_choices()
    label = column.selectbox("Model", labels, key=state.persistent("rec_model", DEFAULT_RANKING_MODEL),
                             on_change=state.keep, args=("rec_model",),
                             help=f"{DEFAULT_RANKING_MODEL} is trained for top-k lists; {DEFAULT_RATING_MODEL} for "
                                  "rating error. Compare the two for the same user.")
    split_names = services.split_choices(dataset, services.RECOMMEND_SPLITS)
    split_name = st.selectbox("Model trained on", split_names,
                              key=state.persistent("rec_split", split_names[0]), on_change=state.keep,
                              args=("rec_split",),
                              help="By default the model learns from every rating, so it knows what each user "
                                   "rated last. The evaluation splits show what a model trained on part of the "
                                   "data recommends.")
    return label, services.RECOMMEND_SPLITS[split_name], split_name == split_names[0]


def side_by_side(dataset, result, label: str, split, user: int, user_id) -> None:
    """Favourites next to the top-10, the download, the check against later ratings, the genres."""
    st.caption(f"{label} was fitted on {split.describe()}.")
    favourites = stats.user_favourites(dataset, user, 10)
    recs = recommend.for_user(result.model, dataset, user, 10)
    if recs.note:
        st.info(recs.note)
    left, right = st.columns([2, 3])
    left.subheader(f"User {user_id}'s favourites")
    left.caption(f"Their ratings of {stats.favourite_threshold(dataset):g} or more, highest first"
                 + ("" if len(favourites) else ": none, as they rated nothing that high") + ".")
    left.dataframe(readable(favourites.drop(columns="item"), {"rating": 1}), hide_index=True,
                   column_config={"title": st.column_config.TextColumn("title", width=170)})  # its rating shows at 1024 px
    right.subheader(f"Top-10 by {label}" + (" (fallback)" if recs.source == recommend.FROM_FALLBACK else ""))
    right.dataframe(readable(top_ten_columns(recs.table)), hide_index=True, column_config=TOP_TEN_COLUMNS)
    services.csv_download(recs.table.drop(columns="item").assign(user=user_id), "Download these recommendations (CSV)",
                          f"recommendations-user-{user_id}-{label}.csv", key="download_recs")
    future_check(dataset, result.model, split, user, user_id)
    profile = explore.genre_profile(dataset, {"favourites": favourites["item"].to_numpy(),
                                              "recommendations": recs.table["item"].to_numpy()})
    st.plotly_chart(map_figures.genre_profile(profile))


def rate_yourself(dataset, model) -> None:
    """A few ratings of your own, folded into the trained movie factors: a top-10 at once."""
    st.divider()
    st.subheader("Rate a few movies yourself")
    st.caption("Your ratings are folded into the trained movie factors: a top-10 at once, no retraining.")
    popular = services.cached_table(dataset.fingerprint, "most rated 300", lambda: stats.item_table(dataset).sort_values(
        "count", ascending=False).head(300)).index.tolist()
    picked = st.multiselect("Movies you have seen", popular, format_func=lambda i: dataset.titles([i])[0],
                            key=state.persistent("my_movies", []), on_change=state.keep,
                            args=("my_movies",), max_selections=20)
    my_ratings = [st.slider(dataset.titles([i])[0], float(dataset.scale.low), float(dataset.scale.high),
                            float(dataset.scale.high), float(dataset.scale.step), key=f"my_rating_{i}")
                  for i in picked]
    if picked:
        try:
            mine = recommend.for_new_user(model, dataset, picked, my_ratings, 10)
        except RecsysError as error:
            st.warning(f"{error}")
        else:
            st.dataframe(readable(top_ten_columns(mine.table)), hide_index=True, column_config=TOP_TEN_COLUMNS)


def main() -> None:
    dataset = datasets.open_page("Recommendations", "Favourites on the left, the model's top-10 among movies the "
                                 "user has not rated (anywhere in the dataset) on the right.")
    if dataset is None:
        return
    opened_from = links.take_link(model_choices(), services.RECOMMEND_SPLITS, lambda user: link_user(dataset, user))
    if opened_from:
        st.info(opened_from, icon=":material/link:")
    c1, c2, c3 = st.columns([2, 1, 2])
    user_id = pick_user(dataset, c1, c2.button("Random user", key="random_user"))
    label, split, first_split = pick_model(dataset, c3)
    result, shown = services.with_stand_in(dataset, label, split, start=label == DEFAULT_RANKING_MODEL and first_split)
    if result is not None:
        side_by_side(dataset, result, shown, split, dataset.user_index(user_id), user_id)
        rate_yourself(dataset, result.model)


main()
