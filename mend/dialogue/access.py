"""Every read of a conversation goes through here: only the people in it get past, others get a 404."""

from django.http import Http404

from mend.dialogue import rules
from mend.dialogue.models import Attachment, Conversation, Recipient
from mend.readiness.snapshot import places_of


def access_conversation(user, public_id: str) -> Conversation:
    return access_conversation_and_places(user, public_id)[0]


def access_conversation_and_places(user, public_id: str) -> tuple[Conversation, tuple]:
    """The conversation, and the case's places as the check read them (mend.readiness.snapshot.places_of),
    for a caller that goes on to ask who is in it without reading them again."""
    conversation = (
        Conversation.objects.select_related("case__program", "party").filter(public_id=public_id).first()
        if user.is_authenticated and user.is_active
        else None
    )
    places = places_of(conversation.case) if conversation is not None else ()
    if conversation is None or rules.place_of(conversation, user, places) is None:
        raise Http404
    return conversation, places


def access_case_conversation(user, case, public_id: str) -> Conversation:
    conversation = access_conversation(user, public_id)
    if conversation.case_id != case.pk:
        raise Http404
    return conversation


def access_attachment(user, case, file_id: str) -> Attachment:
    """A file of a conversation of this case that the user is still in: its uploader may fetch it back, and
    each recipient of the message that carries it. Leaving the conversation (a party when direct contact
    ends) closes its files too."""
    found = (
        Attachment.objects.select_related("conversation__case__program", "conversation__party")
        .filter(file_id=file_id, conversation__case=case)
        .first()
        if user.is_authenticated and user.is_active
        else None
    )
    if found is None or rules.place_of(found.conversation, user) is None:
        raise Http404
    if found.uploader_id == user.pk:
        return found
    if (
        found.message_id is None
        or not Recipient.objects.filter(message_id=found.message_id, user=user).exists()
    ):
        raise Http404
    return found
