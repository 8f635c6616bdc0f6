"""The Compare page's door to models trained elsewhere: this split as files to train on (a zip of
train.csv, test.csv and manifest.json), and an upload of an outside model's predictions or ranked
lists that joins the comparison as a model like ours. An upload lives in this browser session only
(as rating uploads do): never written, never in the server's shared caches."""
from __future__ import annotations

import hashlib

import streamlit as st

from recsys.data.split import Split
from recsys.data.split_export import split_zip
from recsys.errors import RecsysError
from recsys.evaluation.external import ExternalModel, external_model

STORE = "external_files"  # {name: file bytes} of this session


@st.cache_data(show_spinner="Writing the split's files…", max_entries=8)
def _zip(fingerprint: str, split_label: str, _dataset, _split: Split) -> bytes:
    return split_zip(_dataset, _split)


def _add(dataset) -> None:
    """on_change of the uploader: keep the file's bytes under the name typed (or the file's)."""
    upload = st.session_state.get("external_upload")
    if upload is None:
        return
    name = (st.session_state.get("external_name") or upload.name.rsplit(".", 1)[0]).strip()
    st.session_state.setdefault(STORE, {})[name] = upload.getvalue()


def outside(dataset, split: Split, taken: set[str]) -> dict[str, ExternalModel]:
    """The export download and the upload; returns the outside models that pass the checks on
    this split, by name (a file that fails is named with its problems, and left out)."""
    models: dict[str, ExternalModel] = {}
    files = st.session_state.get(STORE, {})
    with st.expander(f"Models trained elsewhere ({len(files)} uploaded)" if files else "Models trained elsewhere",
                     expanded=bool(files)):
        st.caption("Train anywhere on exactly this split, then bring the results back: they are checked against the "
                   "split and scored like ours (intervals, paired tests, segments, the lists' measures). Ids are "
                   "the dataset's own.")
        st.download_button(f"Download this split ({split.label()}): train.csv, test.csv, manifest.json",
                           _zip(dataset.fingerprint, split.label(), dataset, split), f"{dataset.name}-{split.label()}.zip",
                           "application/zip", key="export_split", icon=":material/download:")
        left, right = st.columns([1, 2])
        left.text_input("Name it", key="external_name", placeholder="e.g. my-lightgbm")
        right.file_uploader("Predictions (user, item, prediction) or ranked lists (user, item, rank or score), CSV",
                            type=["csv"], key="external_upload", on_change=_add, args=(dataset,))
        st.caption("Kept in this browser session only, like a ratings upload: not written to the server, not shown "
                   "to other sessions, gone when the tab closes.")
        for name, data in list(files.items()):
            if name in taken:
                st.error(f"“{name}” is also one of our models' names; upload it under another name.")
                continue
            try:
                models[name] = external_model(name, data, dataset, split)
                st.success(f"{name}: {models[name].results.rows:,} {models[name].results.kind} rows, checked against "
                           f"{split.label()}.")
            except RecsysError as error:
                st.error(str(error))
            st.button(f"Remove {name}", key=f"external_remove_{hashlib.sha1(name.encode()).hexdigest()[:8]}",
                      on_click=lambda n=name: st.session_state[STORE].pop(n, None))
    return models
