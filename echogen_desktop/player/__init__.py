"""Audio playback: a facade over QMediaPlayer, controls and transcript panes."""
