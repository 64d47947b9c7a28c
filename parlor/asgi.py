import os

from django.core.asgi import get_asgi_application

from parlor.env import settings_or_exit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parlor.settings")
settings_or_exit()
application = get_asgi_application()
