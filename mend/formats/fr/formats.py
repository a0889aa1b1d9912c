"""The same formats as mend/formats/en, in French (month and day names from Django's French catalogue)."""

DATE_FORMAT = "j M Y"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
DATETIME_FORMAT = "l j F Y, H:i"
TIME_FORMAT = "H:i"
