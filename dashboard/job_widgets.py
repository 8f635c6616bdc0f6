"""Training jobs as a person sees them: progress with its stages, a batch of runs, the offer to
train a model that is not trained yet, what a failed or stopped job says, and the sidebar panel.
Widgets read job snapshots; they never run training themselves."""
from __future__ import annotations

import time

import streamlit as st

from dashboard.privacy import session_id
from dashboard.resources import job_runner
from recsys.data.dataset import Dataset
from recsys.data.split import Split
from recsys.work.catalog import expected_seconds
from recsys.work.job_view import DONE, FAILED, QUEUED, RUNNING, STOPPED, JobView


def expected_seconds_text(label: str, dataset: Dataset) -> str:
    """About how long training `label` takes here, in words."""
    seconds = expected_seconds(label, dataset.n_ratings)
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def offer_training(dataset: Dataset, label: str, split: Split, key: str, reason: str = "") -> None:
    """A model that is not trained yet: what it would train, about how long, and a button (or,
    for a model that cannot train on this data, `reason`)."""
    if reason:
        st.warning(f"**{label}** cannot train on {dataset.name}: {reason}.", icon=":material/block:")
        return
    st.info(f"**{label}** is not trained on {dataset.name} yet (it would learn from {split.describe()}).")
    st.button(f"Train {label} (about {expected_seconds_text(label, dataset)})", key=f"offer-{key}", type="primary",
              on_click=raise_flag, args=(f"train-asked-{key}",),
              help="It trains on the server as a job: other pages stay usable, and this one fills in when it is "
                   "done. Once trained it is cached for every page and session.")


def raise_flag(flag: str) -> None:
    st.session_state[flag] = True


def show_ended(view: JobView, again_key: str | None = None) -> None:
    """What a failed or stopped job says in a page, with a button to run it again."""
    if view.state == FAILED:
        st.error(f"Training {view.label} on {view.dataset} failed: {view.error}")
    elif view.state == STOPPED:
        st.warning(f"Training {view.label} on {view.dataset} was stopped; nothing was saved.")
    if again_key is not None:
        st.button("Try again" if view.state == FAILED else "Train it again", key=again_key,
                  on_click=raise_flag, args=(again_key,))


def is_mine(view: JobView) -> bool:
    """Whether this session asked for the job: a failed or stopped job is shown to that session only."""
    return view.submitter in (None, session_id())


QUICK_JOB_SECONDS = 10


def watch_jobs(keys: list[str], title: str | None = None) -> None:
    """Progress of these jobs in place. While any is active, a fragment redraws it every second (every
    half second while they are young) and reruns the whole page when the last one ends, so the page
    fills in by itself."""
    views = [view for view in map(job_runner().get, keys) if view is not None]
    active = [view for view in views if view.active]
    if active:
        # a job in its first seconds may end any moment (the lessons' model takes about 1.3 s): look
        # twice as often, so the page fills in sooner; a long one is looked at once a second
        quick = all(view.elapsed() < QUICK_JOB_SECONDS for view in active)
        st.fragment(_job_progress, run_every=0.5 if quick else 1.0)(tuple(keys), title, True)
    else:
        _job_progress(tuple(keys), title, False)


def _job_progress(keys: tuple[str, ...], title: str | None, live: bool) -> None:
    views = [view for view in map(job_runner().get, keys) if view is not None]
    if live and not any(view.active for view in views) and not asked_for_another_page():
        st.rerun()  # the jobs ended: redraw the page with their models
    if title:
        st.markdown(title)
    if len(views) > MANY_JOBS:
        _many_jobs_progress(views)
        return
    for view in views:
        if view.active:
            job_progress(view, note="the page fills in when it is done; other pages stay usable")
        elif view.state in (FAILED, STOPPED) and is_mine(view):
            show_ended(view)


def asked_for_another_page() -> bool:
    """Whether this session has already asked to run another page (a link clicked just as the job
    ended). Streamlit folds two pending runs into one of the page named last, and `st.rerun()` here
    names this page: the click would be lost and the person left here. Streamlit keeps the pending
    request in its script requests, which are not a public API: anything unexpected reads as no."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx
    from streamlit.runtime.scriptrunner_utils.script_requests import ScriptRequestType

    ctx = get_script_run_ctx()
    requests = getattr(ctx, "script_requests", None)
    if getattr(requests, "_state", None) != ScriptRequestType.RERUN:
        return False
    pending = getattr(getattr(requests, "_rerun_data", None), "page_script_hash", "")
    return bool(pending) and pending != ctx.page_script_hash


MANY_JOBS = 3
STAGE_MARKS = {"done": "✓", "now": "▶", "next": "○"}


def job_progress(view: JobView, note: str = "") -> None:
    """One job's progress: one bar across all its stages, where it is, and the list of stages."""
    st.progress(view.progress, text=f"Training **{view.label}** on {view.dataset} ({view.split})")
    st.caption(view.describe() + (f" · {note}" if note else ""))
    if len(view.plan) > 1:
        st.caption("Stages: " + " · ".join(f"{STAGE_MARKS[state]} {name}" for name, state in view.stage_list()))


def _many_jobs_progress(views: list[JobView]) -> None:
    """A batch of jobs (e.g. a comparison over folds): how many are done, the one running, and
    the queue in order."""
    done = sum(view.state == DONE for view in views)
    st.progress(done / len(views), text=f"**{done} of {len(views)}** runs trained; the rest wait their turn "
                "and the page fills in as they finish")
    for view in views:
        if view.state == RUNNING:
            job_progress(view)
    waiting = [f"{view.label} ({view.split})" for view in views if view.state == QUEUED]
    if waiting:
        st.caption(f"Waiting, in order: {', '.join(waiting)}")
    for view in views:
        if view.state in (FAILED, STOPPED):
            show_ended(view)


def jobs_panel() -> None:
    """The sidebar's list of this server's training jobs (every session's), refreshed every two
    seconds, with a Stop button for each running or queued job."""
    with st.sidebar:
        st.fragment(_jobs_panel_body, run_every=2.0)()


RECENT_SECONDS = 600
SIDEBAR_QUEUED = 2  # the sidebar lists this many waiting jobs, then counts the rest


def _jobs_panel_body() -> None:
    runner = job_runner()
    now = time.time()
    views = runner.jobs(session_id())
    active = [view for view in views if view.active]
    recent = [view for view in views if not view.active and view.finished and now - view.finished < RECENT_SECONDS
              and (view.state == DONE or is_mine(view))]
    st.markdown("**Training jobs**")
    if not active and not recent:
        st.caption("No training is running. Jobs started on any page show here.")
        return
    waiting = [view for view in active if view.state == QUEUED]
    shown = [view for view in active if view.state != QUEUED] + waiting[:SIDEBAR_QUEUED]
    for view in shown:
        st.progress(view.progress, text=f"{'tuning ' if view.kind != 'training' else ''}{view.label} · {view.dataset} · "
                                        f"{view.split}")
        left, right = st.columns([5, 1], vertical_alignment="center")
        left.caption(view.describe(now))
        right.button("", icon=":material/stop_circle:", key=f"stop-job-{view.id}", on_click=runner.stop,
                     args=(view.key,), help=f"Stop {view.label}: ends it after the current batch; nothing is saved.")
    if len(waiting) > SIDEBAR_QUEUED:
        st.caption(f"… and {len(waiting) - SIDEBAR_QUEUED} more waiting their turn")
    icons = {DONE: ":material/check_circle:", FAILED: ":material/error:", STOPPED: ":material/stop_circle:"}
    for view in reversed(recent[-3:]):
        st.caption(f"{icons[view.state]} {view.label} · {view.dataset} · {view.split}: {view.describe(now)}")
