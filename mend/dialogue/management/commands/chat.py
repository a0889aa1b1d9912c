"""`mend chat`: read and write in a case's encrypted conversations from a terminal, with a staff member's
personal API token and a local key file. Keys and passphrases stay on this machine and are never shown."""

import getpass
import os

from django.core.management.base import BaseCommand, CommandError, CommandParser

from mend.dialogue import chat


class Error(CommandError):
    """Django's runner prints it as "Error: <sentence>" and exits with 1, without a traceback."""


class Command(BaseCommand):
    help = (
        "Read and send end-to-end encrypted messages. Start with `mend chat keyfile` to save your keys, "
        "then `list`, `read` and `send`."
    )
    requires_system_checks = []  # a client of a server, often another one: this machine's setup is not used
    transport: chat.Transport | None = None  # None: urllib; the tests put Django's test client here

    def add_arguments(self, parser: CommandParser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="keyfile|list|read|send")

        def action(name: str, help_text: str):
            sub = actions.add_parser(name, help=help_text, description=help_text)
            sub.add_argument("--url", required=True, help="The server, like https://mend.example.org.")
            sub.add_argument(
                "--token", help="Your personal API token; better kept in MEND_API_TOKEN, out of your history."
            )
            return sub

        keyfile = action("keyfile", "Unlock your keys with your passphrase and save them in a private file.")
        keyfile.add_argument("--identifier", required=True, help="The email you sign in with.")
        keyfile.add_argument("--out", required=True, help="Where to write the key file (never overwritten).")
        keyfile.add_argument(
            "--passphrase-file", help="Read the passphrase from this file instead of asking for it."
        )

        listing = action("list", "The conversations you have in a case.")
        listing.add_argument("case", metavar="CASE_REF")

        read = action("read", "Check, decrypt and show the messages of a conversation.")
        read.add_argument("--keys", required=True, help="Your key file.")
        read.add_argument("--after", type=int, default=0, help="Only messages after this number.")
        read.add_argument("conversation", metavar="CONVERSATION")

        send = action("send", "Encrypt a message to the people in a conversation and send it.")
        send.add_argument("--keys", required=True, help="Your key file.")
        send.add_argument("--kind", choices=chat.SEND_KINDS, default="message")
        send.add_argument("--ref", help="For returned or relayed: the id of the message it is about.")
        send.add_argument(
            "--accept-key-change",
            action="store_true",
            help="Send even though someone's keys changed, after comparing their safety code with them.",
        )
        send.add_argument(
            "--accept-new-member",
            action="store_true",
            help="Send even though someone new joined the conversation, after checking they should be there.",
        )
        send.add_argument("conversation", metavar="CONVERSATION")
        send.add_argument("text", metavar="TEXT")

    def handle(self, *args, action: str, url: str, token: str | None, **options):
        try:
            token = token or os.environ.get("MEND_API_TOKEN", "")
            api = chat.Api(url, token, transport=type(self).transport)
            getattr(self, f"_{action}")(api, **options)
        except chat.ChatError as error:
            raise Error(str(error)) from None

    def _keyfile(self, api: chat.Api, *, identifier: str, out: str, passphrase_file: str | None, **_):
        if os.path.lexists(out):
            raise chat.ChatError(chat.ALREADY_THERE.format(path=out))
        passphrase = self._passphrase(passphrase_file)
        data = chat.keyfile_from_server(api, identifier=identifier, passphrase=passphrase)
        chat.keyfile_write(out, data)
        self.stdout.write(
            f"Your keys are saved in {out}, readable by you only. Keep the file safe: it opens your messages."
        )

    def _passphrase(self, path: str | None) -> str:
        if path:
            try:
                with open(path, encoding="utf-8") as source:
                    text = source.read()
            except (OSError, UnicodeDecodeError) as error:
                why = getattr(error, "strerror", None) or "it is not UTF-8 text"
                raise chat.ChatError(f"Could not read the passphrase file {path}: {why}.") from None
            # A file ends with a line break that is not part of the passphrase; anything else is.
            text = text.removesuffix("\n").removesuffix("\r")
        else:
            try:
                text = getpass.getpass("Passphrase: ")
            except (EOFError, KeyboardInterrupt):
                raise chat.ChatError("No passphrase was given, so nothing was saved.") from None
        if not text:
            raise chat.ChatError("The passphrase is empty.")
        return text

    def _list(self, api: chat.Api, *, case: str, **_):
        conversations = api.conversations(case)
        if not conversations:
            self.stdout.write(f"You have no conversations in {case}.")
        for found in conversations:
            self.stdout.write(f"{found['id']}  {found['kind']:<7}  {chat.printable(found['title'])}")

    def _read(self, api: chat.Api, *, keys: str, conversation: str, after: int, **_):
        if after < 0:
            raise chat.ChatError("--after must be 0 or more.")
        pair = chat.keyfile_read(keys)
        lines = chat.conversation_read(api, pair, conversation, after, pins=chat.pins_beside(keys))
        if not lines:
            self.stdout.write("No new messages." if after else "No messages yet.")
        for line in lines:
            self.stdout.write(line.render())
        unchecked = sum(1 for line in lines if line.problem)
        if unchecked:
            raise chat.ChatError(
                f"{unchecked} message{'s' if unchecked != 1 else ''} could not be checked and "
                f"{'were' if unchecked != 1 else 'was'} not shown."
            )

    def _send(self, api: chat.Api, *, keys: str, conversation: str, text: str, kind: str, ref, **options):
        pair = chat.keyfile_read(keys)
        sent = chat.message_send(
            api,
            pair,
            conversation,
            text,
            kind=kind,
            ref=ref,
            pins=chat.pins_beside(keys),
            accept_changed_keys=options.get("accept_key_change", False),
            accept_new_members=options.get("accept_new_member", False),
        )
        for name in sent.without_keys:
            self.stderr.write(f"{chat.printable(name)} has no keys yet, so cannot read this message.")
        again = " (it had arrived already)" if sent.duplicate else ""
        self.stdout.write(f"Sent as message {sent.seq}{again}.")
