"""`make bench`: Mend against bare Django and Channels baselines, measured in the same run (README.md)."""
