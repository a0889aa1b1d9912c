from django.apps import AppConfig


class RightsConfig(AppConfig):
    """A person's data rights: download of their own information, deletion, and retention expiry."""

    name = "mend.rights"
    label = "rights"
