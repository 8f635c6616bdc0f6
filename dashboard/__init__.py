"""The Latent Factor Explorer Streamlit dashboard (pages in dashboard/app_pages/)."""
