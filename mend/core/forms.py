"""What Mend's forms share."""

from django import forms


class OwnIdsForm(forms.Form):
    """A form that may share a page with another form of the same field names: its elements get ids of
    their own (id_<ids_prefix>_<field>), so each label, help text and error points at its own field. The
    field names, and so what is posted, stay the same."""

    ids_prefix = ""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"id_{self.ids_prefix}_%s")
        super().__init__(*args, **kwargs)
