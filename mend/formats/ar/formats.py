"""The same formats as mend/formats/en, in Arabic (month and day names from Django's Arabic catalogue; the
Arabic comma between date and time)."""

DATE_FORMAT = "j F Y"
SHORT_DATETIME_FORMAT = "j F Y، H:i"
DATETIME_FORMAT = "l j F Y، H:i"
TIME_FORMAT = "H:i"
