"""Access ends everywhere at once, on open sockets too: after a passphrase recovery, a deactivation or a
removal from the program, a conversation socket closes and hears nothing more. Each `..._by_itself` test
changes the database as an attacker or an old admin tool would, without the services, and shows that the
socket's own checks (every frame, every delivery) are enough; the others go through the services."""

import os

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from mend.accounts import keys as account_keys
from mend.accounts.models import Membership, User
from mend.cases import services as case_services
from mend.cases.models import Role
from mend.core import envelope as env
from mend.dialogue import services
from tests.builders import consent
from tests.dialogue.helpers import give_keys, seal
from tests.dialogue.test_consumers import connect, cookie_of, fresh, hello, run

pytestmark = pytest.mark.django_db(transaction=True)

WAIT = 3


class Stage:
    """The person harmed's conversation with the facilitator and a co-facilitator, all with keys."""

    def __init__(self, cast):
        consent(cast.harmed, "take_part", "facilitator_contact")
        case_services.facilitator_assign(
            actor=cast.coordinator,
            case=cast.case,
            user=cast.other_facilitator_same_program,
            role=Role.CO_FACILITATOR,
        )
        self.colleague = cast.other_facilitator_same_program
        self.harmed_keys = give_keys(cast.harmed.user)
        give_keys(cast.facilitator)
        give_keys(self.colleague)
        self.conversation = services.conversation_open(case=cast.case, kind="support", party=cast.harmed)
        self.id = self.conversation.public_id
        self.harmed = cast.harmed.user
        self.cookies = {
            "harmed": cookie_of(cast.client("harmed")),
            "facilitator": cookie_of(cast.client("facilitator")),
            "colleague": cookie_of(cast.client("other_facilitator_same_program")),
        }

    def post_from_harmed(self, text: str):
        """The person harmed writes, sealed to whoever the server lists now, as the page does."""
        conversation = fresh(self.conversation)
        message, _created = services.message_post(
            actor=self.harmed, conversation=conversation, envelope=seal(conversation, self.harmed_keys, text)
        )
        return message


@pytest.fixture
def stage(cast):
    return Stage(cast)


async def open_socket(cookie: str, public_id: str):
    communicator, connected, code = await connect(cookie, public_id)
    assert connected, code
    await hello(communicator)
    return communicator


async def closed_code(communicator, timeout: float = WAIT) -> int | None:
    """The close code the socket sends within `timeout` (after any last error frame), or None if it stays
    open; a message frame on the way fails the test: nothing may be delivered after access ended."""
    try:
        while True:
            output = await communicator.receive_output(timeout=timeout)
            if output["type"] == "websocket.close":
                return output.get("code")
            assert '"type": "message"' not in output.get("text", ""), output
    except TimeoutError:
        return None


async def hears_nothing(communicator, timeout: float = 1) -> bool:
    return await communicator.receive_nothing(timeout=timeout)


# Recovery: a new passphrase signs the person out everywhere.


def _recoverable(user: User) -> str:
    """New keys with a recovery code the test knows; returns the code's derived key."""
    code = env.new_recovery_code()
    recovery_auth, recovery_wrap = env.derive_recovery(code)
    pair = env.KeyPair.generate()
    account_keys.key_bundle_replace(
        actor=user,
        **pair.public(),
        wrapped=env.wrap_keys(os.urandom(32), pair),
        recovery_wrapped=env.wrap_keys(recovery_wrap, pair),
        recovery_auth=recovery_auth,
    )
    return recovery_auth


def _recover(user: User, recovery_auth: str) -> None:
    bundle = account_keys.current_bundle(user)
    account_keys.account_recover(
        user=user, recovery_auth=recovery_auth, auth_key=env.b64u(os.urandom(32)), wrapped=bundle.wrapped
    )


def test_it_closes_a_persons_sockets_at_once_when_they_recover_their_account(cast, stage):
    recovery_auth = _recoverable(stage.harmed)

    async def scenario():
        socket = await open_socket(stage.cookies["harmed"], stage.id)
        # Someone else, on another device, resets the passphrase with the recovery code.
        await database_sync_to_async(_recover)(stage.harmed, recovery_auth)
        assert await closed_code(socket) == 4401

    run(scenario)


def test_it_closes_a_socket_at_its_next_frame_once_the_passphrase_changed_by_itself(cast, stage):
    async def scenario():
        socket = await open_socket(stage.cookies["harmed"], stage.id)

        def change_passphrase():  # as a recovery does, without anything else
            user = User.objects.get(pk=stage.harmed.pk)
            user.set_password("a new derived key")
            user.save(update_fields=["password"])

        await database_sync_to_async(change_passphrase)()
        await socket.send_json_to({"type": "hello", "after": 0})
        assert await closed_code(socket) == 4404

    run(scenario)


# Deactivation: the account is closed, and so is every socket of it.


def test_it_closes_a_staff_members_sockets_at_once_when_their_account_is_deactivated(cast, stage):
    from mend.accounts.offboarding import user_deactivate

    async def scenario():
        socket = await open_socket(stage.cookies["colleague"], stage.id)
        await database_sync_to_async(user_deactivate)(actor=cast.admin, user=stage.colleague)
        assert await closed_code(socket) == 4401

    run(scenario)


def test_it_delivers_nothing_to_a_deactivated_account_and_closes_its_socket_by_itself(cast, stage):
    async def scenario():
        socket = await open_socket(stage.cookies["colleague"], stage.id)
        await database_sync_to_async(User.objects.filter(pk=stage.colleague.pk).update)(is_active=False)
        await database_sync_to_async(stage.post_from_harmed)("after the account closed")
        # Not a recipient any more, so nothing comes; the next frame finds the account closed.
        assert await hears_nothing(socket)
        await socket.send_json_to({"type": "members"})
        assert await closed_code(socket) == 4404

    run(scenario)


def test_it_stops_a_delivery_to_a_socket_whose_account_closed_since_the_message_was_sent(cast, stage):
    """The check before each delivery: the message names the facilitator as a recipient (sent while the
    account was open), but by the time it reaches the socket the account is closed."""

    async def scenario():
        socket = await open_socket(stage.cookies["facilitator"], stage.id)
        await database_sync_to_async(User.objects.filter(pk=cast.facilitator.pk).update)(is_active=False)
        await get_channel_layer().group_send(
            services.conversation_group(stage.conversation.pk),
            {"type": "dialogue.message", "recipients": [cast.facilitator.pk], "seq": 99, "text": "{}"},
        )
        assert await closed_code(socket) == 4404

    run(scenario)


# Removal from the program: their places end, and with them the conversations.


def test_it_closes_a_staff_members_sockets_at_once_when_they_are_removed_from_the_program(cast, stage):
    from mend.accounts.offboarding import membership_end

    membership = Membership.objects.get(user=stage.colleague, program=cast.program)

    async def scenario():
        socket = await open_socket(stage.cookies["colleague"], stage.id)
        await database_sync_to_async(membership_end)(actor=cast.admin, membership=membership)
        assert await closed_code(socket) in (4401, 4404)

    run(scenario)


def test_it_delivers_nothing_to_a_former_member_whose_place_was_left_behind(cast, stage):
    async def scenario():
        socket = await open_socket(stage.cookies["colleague"], stage.id)
        # The membership goes (an old admin tool, a database edit), the facilitator's place stays.
        await database_sync_to_async(Membership.objects.filter(user=stage.colleague).delete)()
        message = await database_sync_to_async(stage.post_from_harmed)("after they left")
        assert await hears_nothing(socket)
        await socket.send_json_to({"type": "members"})
        assert await closed_code(socket) == 4404
        recipients = await database_sync_to_async(
            lambda: set(message.recipients.values_list("user_id", flat=True))
        )()
        assert stage.colleague.pk not in recipients

    run(scenario)
