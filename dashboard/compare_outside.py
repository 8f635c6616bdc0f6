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
CHECKED = "external_checked"  # {(name, content hash, split, dataset): the checked model} of this session


def content_key(name: str, data: bytes, dataset, split: Split) -> tuple:
    """What identifies one checked outside model: its name, its file's content, the split and data."""
    return name, hashlib.sha256(data).hexdigest(), split.label(), dataset.fingerprint


def _checked(name: str, data: bytes, dataset, split: Split) -> ExternalModel:
    """The file read and checked against the split once per content (not on every rerun)."""
    key = content_key(name, data, dataset, split)
    kept = st.session_state.setdefault(CHECKED, {})
    if key not in kept:
        for old in [k for k in kept if k[2:] != key[2:]]:  # only the current split and data are kept
            del kept[old]
        kept[key] = external_model(name, data, dataset, split)
    return kept[key]


@st.cache_data(show_spinner="Writing the split's files…", max_entries=8)
def _zip(fingerprint: str, split_label: str, _dataset, _split: Split) -> bytes:
    return split_zip(_dataset, _split)


def _add() -> None:
    """on_change of the uploader: keep the file's bytes under the name typed (or the file's)."""
    upload = st.session_state.get("external_upload")
    if upload is None:
        return
    name = (st.session_state.get("external_name") or upload.name.rsplit(".", 1)[0]).strip()
    st.session_state.setdefault(STORE, {})[name] = upload.getvalue()


def outside(dataset, split: Split, taken: set[str]) -> dict[tuple, ExternalModel]:
    """The export download and the upload; returns the outside models that pass the checks on
    this split, by `content_key` (its first item is the name; a file that fails is named with its
    problems, and left out)."""
    models: dict[tuple, ExternalModel] = {}
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
                            type=["csv"], key="external_upload", on_change=_add)
        st.caption("Kept in this browser session only, like a ratings upload: not written to the server, not shown "
                   "to other sessions, gone when the tab closes.")
        for name, data in list(files.items()):
            if name in taken:
                st.error(f"“{name}” is also one of our models' names; upload it under another name.")
                continue
            try:
                model = models[content_key(name, data, dataset, split)] = _checked(name, data, dataset, split)
                st.success(f"{name}: {model.results.rows:,} {model.results.kind} rows, checked against {split.label()}.")
            except RecsysError as error:
                st.error(str(error))
            st.button(f"Remove {name}", key=f"external_remove_{hashlib.sha1(name.encode()).hexdigest()[:8]}",
                      on_click=lambda n=name: st.session_state[STORE].pop(n, None))
    return models
