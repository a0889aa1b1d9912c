"""The ASGI application: HTTP through Django, websockets through Channels, in one process."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mend.settings")

from channels.routing import ProtocolTypeRouter  # noqa: E402
from django.core.asgi import get_asgi_application  # noqa: E402

django_asgi = get_asgi_application()

from mend.routing import websocket_application  # noqa: E402

application = ProtocolTypeRouter({"http": django_asgi, "websocket": websocket_application})
