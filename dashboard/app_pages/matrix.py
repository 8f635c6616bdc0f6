"""The sparse users x movies matrix: the whole of it binned, and a movable window of real cells."""
import pandas as pd
import streamlit as st

from dashboard import datasets, figures, services, state
from dashboard.tables import readable
from recsys.data import stats


def main() -> None:
    st.title("Rating matrix")
    st.caption("Almost every cell is empty. The models' job is to fill them in.")

    dataset = datasets.current_dataset()
    if dataset is not None:
        st.metric("Filled cells", stats.percent(dataset.density), help=f"{dataset.n_ratings:,} ratings in "
                  f"{dataset.n_users:,} x {dataset.n_items:,} = {dataset.n_users * dataset.n_items:,} cells")
        binned = services.cached_table(dataset.fingerprint, "binned", lambda: pd.DataFrame(stats.binned_matrix(dataset)))
        st.plotly_chart(figures.matrix_density(binned.to_numpy(), dataset.n_users, dataset.n_items))

        st.subheader("A window of actual cells")
        users_by_activity, items_by_activity = stats.activity_order(dataset)
        mode = st.radio("Choose the window", ["a block by activity rank", "pick users and movies"], horizontal=True,
                        key=state.persistent("window_mode", "a block by activity rank"),
                        on_change=state.keep, args=("window_mode",))
        if mode == "a block by activity rank":
            c1, c2, c3, c4 = st.columns(4)
            # ranks count from 1, the most active user or movie first
            first_user = c1.number_input("First user (rank)", 1, max(dataset.n_users, 1), 1, step=5) - 1
            n_users = c2.slider("Users", 5, 40, 15)
            first_item = c3.number_input("First movie (rank)", 1, max(dataset.n_items, 1), 1, step=10) - 1
            n_items = c4.slider("Movies", 5, 40, 15)
            users = users_by_activity[first_user: first_user + n_users]
            items = items_by_activity[first_item: first_item + n_items]
        else:
            user_options = list(dataset.user_ids[users_by_activity[:200]])
            item_options = list(items_by_activity[:300])
            picked_users = st.multiselect("Users", user_options, default=user_options[:8])
            picked_items = st.multiselect("Movies", item_options, default=item_options[:8],
                                          format_func=lambda i: dataset.titles([i])[0])
            users = [dataset.user_index(u) for u in picked_users]
            items = picked_items
        if len(users) and len(items):
            window = stats.matrix_window(dataset, users, items)
            filled = window.notna().to_numpy().mean()
            st.caption(f"{filled:.0%} of this window is filled" + (" (the densest corner of the matrix is at rank 1)."
                                                                   if mode == "a block by activity rank" else "."))
            st.plotly_chart(figures.matrix_window(window))
            cells = readable(window.reset_index().rename(columns=str), default_decimals=1, missing="")
            st.dataframe(cells, hide_index=True, column_config={
                "user": st.column_config.Column("user", pinned=True),
                **{str(title): st.column_config.TextColumn(str(title), alignment="right") for title in window.columns}})
        else:
            st.info("Pick at least one user and one movie.")


main()
