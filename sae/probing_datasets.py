"""The sae-probes datasets probed by default, known to the source config (held out of its text) and to probing."""

# sae-probes datasets probed by default: short prompts (12-26 characters on average), so their
# last-token activations cost little on a CPU, over eight topics (sports, places, people, art).
# Our choice; the paper probes all 113 (`configs/probing_full.yaml`).
DEFAULT_PROBING_DATASETS = (
    "5_hist_fig_ismale", "6_hist_fig_isamerican", "114_nyc_borough_Manhattan", "118_us_state_CA",
    "120_us_timezone_Chicago", "125_world_country_Italy", "127_art_type_song", "154_athlete_sport_football",
)
