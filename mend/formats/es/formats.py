"""The same formats as mend/formats/en, in Spanish (month and day names from Django's Spanish catalogue)."""

DATE_FORMAT = "j M Y"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
DATETIME_FORMAT = r"l j \d\e F \d\e Y, H:i"
TIME_FORMAT = "H:i"
